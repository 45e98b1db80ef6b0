namespace EdgeLm.Runtime.Grammar;

/// <summary>
/// A grammar or schema that cannot be used: a GBNF syntax error (with its line and column), an undefined or
/// left-recursive rule, an unsupported JSON Schema keyword, or a token the grammar does not allow.
/// </summary>
public sealed class GrammarException : Exception
{
    /// <summary>Creates the exception with a message naming the problem.</summary>
    public GrammarException(string message) : base(message) { }

    /// <summary>Creates the exception for a position in a GBNF text (both 1-based).</summary>
    public GrammarException(string message, int line, int column) : base($"{message} (line {line}, column {column})")
    {
        Line = line;
        Column = column;
    }

    /// <summary>The 1-based line of the problem in the GBNF text, when it has one.</summary>
    public int? Line { get; }

    /// <summary>The 1-based column of the problem in the GBNF text, when it has one.</summary>
    public int? Column { get; }
}
