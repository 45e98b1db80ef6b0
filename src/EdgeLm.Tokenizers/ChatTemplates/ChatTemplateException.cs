namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>What went wrong in a chat template.</summary>
public enum ChatTemplateErrorKind
{
    /// <summary>The template text is not valid (found by <see cref="ChatTemplate.Parse"/>).</summary>
    Syntax,

    /// <summary>Rendering failed: an unsupported operation, a wrong type, an unknown filter, ...</summary>
    Render,

    /// <summary>The template itself called <c>raise_exception(message)</c>, usually to reject the conversation
    /// (for example roles that do not alternate). <see cref="Exception.Message"/> is exactly that message.</summary>
    Raised,
}

/// <summary>
/// A chat template could not be parsed or rendered. <see cref="Line"/> and <see cref="Column"/> (1-based) point into
/// the template source at the construct at fault. For <see cref="ChatTemplateErrorKind.Raised"/> errors the message is
/// the template's own text, unchanged; other messages end with the position.
/// </summary>
public sealed class ChatTemplateException : Exception
{
    public ChatTemplateException(ChatTemplateErrorKind kind, string reason, int line, int column)
        : base(kind == ChatTemplateErrorKind.Raised ? reason : $"{reason} (line {line}, column {column})")
    {
        Kind = kind;
        Reason = reason;
        Line = line;
        Column = column;
    }

    /// <summary>Whether the template was invalid, failed while rendering, or raised on purpose.</summary>
    public ChatTemplateErrorKind Kind { get; }

    /// <summary>The message without the position (for non-raised errors, worded as the reference engine words
    /// it where we can).</summary>
    public string Reason { get; }

    /// <summary>1-based line in the template source.</summary>
    public int Line { get; }

    /// <summary>1-based column (in UTF-16 units) in the template source.</summary>
    public int Column { get; }
}

/// <summary>A render-time failure before it is given a position; becomes a <see cref="ChatTemplateException"/>.</summary>
internal sealed class RenderFault(string message, bool raised = false) : Exception(message)
{
    /// <summary>True when it comes from the template's <c>raise_exception</c>.</summary>
    public bool Raised { get; } = raised;

    /// <summary>Offset in the original source of the innermost node being evaluated, or -1 until known.</summary>
    public int Position { get; set; } = -1;
}

/// <summary>A syntax error at an offset of the preprocessed text; the parser maps it to a line and column.</summary>
internal sealed class SyntaxFault(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}
