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
        long maxNextDistance = Walk(state, long.MaxValue, bits);
        return new TokenMask(bits, maxNextDistance);
    }

    /// <summary>
    /// Sets in <paramref name="bits"/> (cleared first) the tokens allowed in <paramref name="state"/> after which the
    /// shortest completion is at most <paramref name="maxDistance"/> bytes; not cached (the budget changes every token).
    /// </summary>
    public void Within(int state, long maxDistance, ulong[] bits)
    {
        System.Array.Clear(bits);
        Walk(state, maxDistance, bits);
    }

    // One preorder pass over the trie: a node's state is its parent's state stepped by the node's byte; a dead state
    // skips the whole subtree. Returns the largest completion distance among the tokens set.
    private long Walk(int state, long maxDistance, ulong[] bits)
    {
        long maxNextDistance = 0;
        var depth = vocabulary.Depth;
        var edge = vocabulary.EdgeByte;
        var subtreeEnd = vocabulary.SubtreeEnd;
        var tokenStart = vocabulary.TokenStart;
        var tokenIds = vocabulary.TokenIds;
        var stateAt = _stateAtDepth;
        stateAt[0] = state;
        int nodes = vocabulary.NodeCount;
        for (int i = 1; i < nodes;)
        {
            int d = depth[i];
            int parent = stateAt[d - 1];
            int next = automaton.Row(parent)[edge[i]];
            if (next < 0)
                next = automaton.Step(parent, edge[i]);
            if (next == GrammarAutomaton.Dead)
            {
                i = subtreeEnd[i];
                continue;
            }
            stateAt[d] = next;
            int end = tokenStart[i + 1];
            if (tokenStart[i] < end)
            {
                long distance = automaton.Distance(next);
                if (distance <= maxDistance)
                {
                    maxNextDistance = Math.Max(maxNextDistance, distance);
                    for (int k = tokenStart[i]; k < end; k++)
                        bits[tokenIds[k] >> 6] |= 1UL << (tokenIds[k] & 63);
                }
            }
            i++;
        }
        if (automaton.IsComplete(state))
        {
            foreach (int id in vocabulary.EndOfGenerationIds)
                bits[id >> 6] |= 1UL << (id & 63);
        }
        return maxNextDistance;
    }
}

/// <summary>A state's allowed tokens as a bit per token id, and the farthest completion distance any of them leads to.</summary>
internal sealed record TokenMask(ulong[] Bits, long MaxNextDistance);
