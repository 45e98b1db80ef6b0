namespace EdgeLm.Runtime.Grammar;

/// <summary>
/// Which tokens a grammar state allows, computed by walking the vocabulary trie against the state's transitions and
/// cached per state (the same states recur: every character inside a JSON string leads back to one state).
/// </summary>
internal sealed class TokenMaskCache(GrammarAutomaton automaton, GrammarVocabulary vocabulary)
{
    /// <summary>Bytes of masks kept before the cache is emptied.</summary>
    private const long MaxCachedBytes = 16L << 20;

    private readonly Dictionary<int, TokenMask> _masks = [];
    private readonly int[] _stateAtDepth = new int[vocabulary.LongestToken + 1];
    private long _cachedBytes;

    /// <summary>How many masks were computed (cache misses), for measurements.</summary>
    public int Computed { get; private set; }

    /// <summary>The allowed tokens of <paramref name="state"/>, end-of-generation tokens included when it is complete.</summary>
    public TokenMask Get(int state)
    {
        if (_masks.TryGetValue(state, out var mask))
            return mask;
        mask = Compute(state);
        long size = mask.Bits.Length * sizeof(ulong);
        if (_cachedBytes + size > MaxCachedBytes)
        {
            _masks.Clear();
            _cachedBytes = 0;
        }
        _masks[state] = mask;
        _cachedBytes += size;
        return mask;
    }

    private TokenMask Compute(int state)
    {
        Computed++;
        var bits = new ulong[(vocabulary.Count + 63) / 64];
        long maxNextDistance = 0;
        var depth = vocabulary.Depth;
        var edge = vocabulary.EdgeByte;
        var subtreeEnd = vocabulary.SubtreeEnd;
        var tokenStart = vocabulary.TokenStart;
        var tokenIds = vocabulary.TokenIds;
        _stateAtDepth[0] = state;
        int nodes = vocabulary.NodeCount;
        for (int i = 1; i < nodes;)
        {
            int d = depth[i];
            int next = automaton.Step(_stateAtDepth[d - 1], edge[i]);
            if (next == GrammarAutomaton.Dead)
            {
                i = subtreeEnd[i];
                continue;
            }
            _stateAtDepth[d] = next;
            int end = tokenStart[i + 1];
            if (tokenStart[i] < end)
            {
                maxNextDistance = Math.Max(maxNextDistance, automaton.Distance(next));
                for (int k = tokenStart[i]; k < end; k++)
                    bits[tokenIds[k] >> 6] |= 1UL << (tokenIds[k] & 63);
            }
            i++;
        }
        if (automaton.IsComplete(state))
        {
            foreach (int id in vocabulary.EndOfGenerationIds)
                bits[id >> 6] |= 1UL << (id & 63);
        }
        return new TokenMask(bits, maxNextDistance);
    }
}

/// <summary>A state's allowed tokens as a bit per token id, and the farthest completion distance any of them leads to.</summary>
internal sealed record TokenMask(ulong[] Bits, long MaxNextDistance)
{
    public bool Contains(int id) => (uint)id < (uint)(Bits.Length * 64) && ((Bits[id >> 6] >> (id & 63)) & 1) != 0;
}
