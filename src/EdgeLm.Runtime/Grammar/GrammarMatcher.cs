using System.Text;

namespace EdgeLm.Runtime.Grammar;

/// <summary>
/// Follows one text through a <see cref="Grammar"/>, byte by byte: which bytes may come next, whether the text so far
/// is a complete sentence, how far the nearest completion is. Bytes need not end on a character boundary. Not
/// thread-safe; create one per sequence (it caches the grammar's states it has visited, so reuse it with
/// <see cref="Reset"/> rather than creating a new one per text).
/// </summary>
public sealed class GrammarMatcher
{
    private readonly GrammarAutomaton _automaton;
    private int _state;

    /// <summary>Creates a matcher at the start of <paramref name="grammar"/>.</summary>
    public GrammarMatcher(GbnfGrammar grammar)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        Grammar = grammar;
        _automaton = new GrammarAutomaton(grammar);
        _state = _automaton.Start;
    }

    /// <summary>The grammar being matched.</summary>
    public GbnfGrammar Grammar { get; }

    /// <summary>Whether the bytes accepted so far form a whole sentence (the start rule can end here).</summary>
    public bool IsComplete => _automaton.IsComplete(_state);

    /// <summary>Whether any further byte is allowed; false once a sentence that cannot grow is complete.</summary>
    public bool CanContinue => _automaton.CanContinue(_state);

    /// <summary>The fewest bytes that still have to follow for the text to be complete (0 when complete).</summary>
    public long MinimumBytesToComplete => _automaton.Distance(_state);

    internal GrammarAutomaton Automaton => _automaton;

    /// <summary>The interned state (internal, for the sampler's caches).</summary>
    internal int State => _state;

    /// <summary>Whether <paramref name="bytes"/> may come next (without accepting them).</summary>
    public bool CanAccept(ReadOnlySpan<byte> bytes) => _automaton.Walk(_state, bytes) != GrammarAutomaton.Dead;

    /// <summary>Accepts <paramref name="bytes"/> if they may come next; otherwise changes nothing and returns false.</summary>
    public bool TryAccept(ReadOnlySpan<byte> bytes)
    {
        int next = _automaton.Walk(_state, bytes);
        if (next == GrammarAutomaton.Dead)
            return false;
        _state = next;
        return true;
    }

    /// <summary>Accepts the UTF-8 encoding of <paramref name="text"/> if it may come next.</summary>
    public bool TryAccept(string text) => TryAccept(Encoding.UTF8.GetBytes(text));

    /// <summary>Accepts <paramref name="bytes"/>.</summary>
    /// <exception cref="GrammarException">The grammar does not allow them here; nothing is accepted.</exception>
    public void Accept(ReadOnlySpan<byte> bytes)
    {
        if (!TryAccept(bytes))
            throw new GrammarException($"The grammar does not allow the bytes {Convert.ToHexString(bytes)} (\"{Encoding.UTF8.GetString(bytes)}\") here");
    }

    /// <summary>Returns to the start of the grammar.</summary>
    public void Reset() => _state = _automaton.Start;
}
