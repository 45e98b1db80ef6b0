namespace EdgeLm.Runtime.Grammar;

/// <summary>What an element of a compiled rule alternative is.</summary>
internal enum ElementKind : byte
{
    /// <summary>The end of an alternative.</summary>
    End,

    /// <summary>One byte from a <see cref="ByteSet"/>.</summary>
    Terminal,

    /// <summary>A reference to a rule.</summary>
    Rule,
}

/// <summary>
/// A compiled GBNF grammar: a context-free grammar over UTF-8 bytes. Immutable and thread-safe; match text with a
/// <see cref="GrammarMatcher"/>, constrain generation with a <see cref="GrammarSampler"/>.
/// </summary>
/// <remarks>
/// Character classes and literals are compiled to byte terminals (a class over code points becomes alternatives of
/// UTF-8 byte-range sequences), so a token that ends in the middle of a character is simply a grammar position
/// between two bytes. Repetitions become helper rules (<c>x*</c> is <c>r ::= x r | ""</c>, <c>x{0,n}</c> a chain of
/// n nested optionals), as llama.cpp does. Layout: every alternative of every rule is a run of
/// <see cref="Kinds"/>/<see cref="Operands"/> ending in an <see cref="ElementKind.End"/> element.
/// </remarks>
public sealed class GbnfGrammar
{
    internal GbnfGrammar(string source, string[] ruleNames, int root, ElementKind[] kinds, int[] operands, ByteSet[] terminals,
        int[][] alternatives, long[] ruleMinimumLength)
    {
        Source = source;
        _ruleNames = ruleNames;
        Root = root;
        Kinds = kinds;
        Operands = operands;
        Terminals = terminals;
        Alternatives = alternatives;
        RuleMinimumLength = ruleMinimumLength;
        SuffixMinimum = new long[kinds.Length];
        for (int pos = kinds.Length - 1; pos >= 0; pos--)
        {
            SuffixMinimum[pos] = kinds[pos] switch
            {
                ElementKind.End => 0,
                ElementKind.Terminal => Saturate(1 + SuffixMinimum[pos + 1]),
                _ => Saturate(ruleMinimumLength[operands[pos]] + SuffixMinimum[pos + 1]),
            };
        }
    }

    private readonly string[] _ruleNames;

    /// <summary>Lengths at or above this mean "can never finish".</summary>
    internal const long Unreachable = long.MaxValue / 4;

    /// <summary>The GBNF text the grammar was compiled from.</summary>
    public string Source { get; }

    /// <summary>Every rule, the source's first, then helper rules made for groups, classes and repetitions.</summary>
    public IReadOnlyList<string> RuleNames => _ruleNames;

    /// <summary>The name of the start rule.</summary>
    public string RootName => _ruleNames[Root];

    /// <summary>The length in bytes of the shortest text the grammar accepts.</summary>
    public long MinimumLength => RuleMinimumLength[Root];

    internal int Root { get; }

    /// <summary>Per element position: what it is.</summary>
    internal ElementKind[] Kinds { get; }

    /// <summary>Per element position: the terminal index (Terminal) or rule index (Rule); unused for End.</summary>
    internal int[] Operands { get; }

    /// <summary>The distinct byte sets terminals refer to.</summary>
    internal ByteSet[] Terminals { get; }

    /// <summary>Per rule: the start position of each alternative.</summary>
    internal int[][] Alternatives { get; }

    /// <summary>Per rule: the fewest bytes it can match (<see cref="Unreachable"/> if it can never finish).</summary>
    internal long[] RuleMinimumLength { get; }

    /// <summary>Per element position: the fewest bytes from there to the end of its alternative.</summary>
    internal long[] SuffixMinimum { get; }

    /// <summary>Compiles a GBNF text whose start rule is <paramref name="rootRule"/>.</summary>
    /// <exception cref="GrammarException">A syntax error, an undefined, duplicate or left-recursive rule, or a start rule that can never finish.</exception>
    public static GbnfGrammar Parse(string gbnf, string rootRule = "root")
    {
        ArgumentNullException.ThrowIfNull(gbnf);
        ArgumentNullException.ThrowIfNull(rootRule);
        return GrammarCompiler.Compile(gbnf, GbnfParser.Parse(gbnf), rootRule);
    }

    /// <summary>Whether the whole of <paramref name="text"/> (as UTF-8) is a sentence of the grammar.</summary>
    public bool Matches(string text)
    {
        var matcher = new GrammarMatcher(this);
        return matcher.TryAccept(text) && matcher.IsComplete;
    }

    /// <inheritdoc />
    public override string ToString() => Source;

    internal static long Saturate(long value) => Math.Min(value, Unreachable);
}
