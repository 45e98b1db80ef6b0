namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// A model's chat template (the Jinja text stored as <c>tokenizer.chat_template</c> in GGUF files or
/// <c>chat_template</c> in tokenizer_config.json), parsed once and rendered any number of times. Rendering matches
/// Hugging Face's reference engine (@huggingface/jinja, with transformers' <c>trim_blocks</c> and
/// <c>lstrip_blocks</c>) byte for byte, including its deviations from Python Jinja (e.g. <c>true</c> prints as
/// "true", <c>strip('\n')</c> trims all whitespace, <c>1.0|tojson</c> is "1"). Immutable and thread-safe.
/// </summary>
public sealed class ChatTemplate
{
    private readonly ProgramNode _program;
    private readonly PreprocessedSource _source;

    private ChatTemplate(string source, PreprocessedSource preprocessed, ProgramNode program)
    {
        Source = source;
        _source = preprocessed;
        _program = program;
    }

    /// <summary>
    /// EdgeLm's default template (ChatML) for models that ship none: the same object as
    /// <see cref="ChatTemplates.Default"/>, reachable without naming the static class (inside namespaces under
    /// <c>EdgeLm.Tokenizers</c>, the name <c>ChatTemplates</c> means this namespace, not the class).
    /// </summary>
    public static ChatTemplate Default => ChatTemplates.Default;

    /// <summary>The template text as given.</summary>
    public string Source { get; }

    /// <summary>Parses a template.</summary>
    /// <exception cref="ChatTemplateException">The text is not a valid template (kind
    /// <see cref="ChatTemplateErrorKind.Syntax"/>, with the line and column of the offending token).</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var preprocessed = Preprocessor.Run(source);
        try
        {
            var tokens = Lexer.Tokenize(preprocessed.Text);
            var program = Parser.Parse(tokens, preprocessed);
            return new ChatTemplate(source, preprocessed, program);
        }
        catch (SyntaxFault fault)
        {
            var (line, column) = preprocessed.Locate(preprocessed.OriginalOffset(fault.Position));
            throw new ChatTemplateException(ChatTemplateErrorKind.Syntax, fault.Message, line, column);
        }
    }

    /// <summary>Renders the prompt text for a conversation.</summary>
    /// <exception cref="ChatTemplateException">The template raised (<see cref="ChatTemplateErrorKind.Raised"/>, with
    /// the template's own message, e.g. roles that do not alternate) or failed
    /// (<see cref="ChatTemplateErrorKind.Render"/>, e.g. a filter applied to a value of the wrong kind).</exception>
    public string Render(ChatTemplateContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var globals = Builtins.CreateGlobals(context.Clock);
        try
        {
            Declare(globals, "messages", JsonBridge.ToValue(context.Messages));
            Declare(globals, "tools", JsonBridge.ToValue(context.Tools));
            Declare(globals, "add_generation_prompt", BooleanValue.Of(context.AddGenerationPrompt));
            if (context.BosToken is not null) Declare(globals, "bos_token", new StringValue(context.BosToken));
            if (context.EosToken is not null) Declare(globals, "eos_token", new StringValue(context.EosToken));
            foreach (var (name, value) in context.Variables) Declare(globals, name, JsonBridge.ToValue(value));

            return new Interpreter(context.Clock).Run(_program, globals);
        }
        catch (RenderFault fault)
        {
            var (line, column) = _source.Locate(Math.Max(fault.Position, 0));
            throw new ChatTemplateException(fault.Raised ? ChatTemplateErrorKind.Raised : ChatTemplateErrorKind.Render,
                fault.Message, line, column);
        }
        catch (InsufficientExecutionStackException)
        {
            throw new ChatTemplateException(ChatTemplateErrorKind.Render, "Template nesting too deep for the stack", 1, 1);
        }
    }

    private static void Declare(Scope globals, string name, Value value)
    {
        if (!globals.TryDeclare(name, value)) throw new RenderFault($"Variable already declared: {name}");
    }
}
