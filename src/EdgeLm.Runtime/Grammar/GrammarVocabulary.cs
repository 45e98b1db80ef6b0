using EdgeLm.Tokenizers;

namespace EdgeLm.Runtime.Grammar;

/// <summary>
/// A model's tokens as the grammar sees them: each token's bytes, arranged in a trie so that tokens sharing a prefix
/// are checked against the grammar together, and which tokens end generation. Immutable and thread-safe: build it
/// once per model and share it between every <see cref="GrammarSampler"/>.
/// </summary>
/// <remarks>
/// The trie is stored in preorder: node i has a depth, the byte on the edge from its parent, the index just past its
/// subtree (so a rejected prefix skips its whole subtree in one jump), and the tokens whose bytes end there.
/// Node 0 is the root (the empty prefix). Tokens without bytes, and control tokens that do not end generation
/// (BOS, chat markers), are never allowed and are left out of the trie.
/// </remarks>
public sealed class GrammarVocabulary
{
    private readonly byte[]?[] _bytes;
    private readonly bool[] _endOfGeneration;

    /// <summary>
    /// Creates the vocabulary from each token's bytes (index = token id; null or empty for a token the grammar must
    /// never produce) and the ids that end generation.
    /// </summary>
    public GrammarVocabulary(IReadOnlyList<byte[]?> tokenBytes, IEnumerable<int> endOfGeneration)
    {
        ArgumentNullException.ThrowIfNull(tokenBytes);
        ArgumentNullException.ThrowIfNull(endOfGeneration);
        int count = tokenBytes.Count;
        _bytes = new byte[]?[count];
        _endOfGeneration = new bool[count];
        foreach (int id in endOfGeneration)
        {
            if ((uint)id >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(endOfGeneration), id, $"End-of-generation token {id} is outside the vocabulary of {count}.");
            _endOfGeneration[id] = true;
        }
        EndOfGenerationIds = [.. Enumerable.Range(0, count).Where(i => _endOfGeneration[i])];
        var ordered = new List<int>();
        for (int id = 0; id < count; id++)
        {
            if (_endOfGeneration[id] || tokenBytes[id] is not { Length: > 0 } bytes)
                continue;
            _bytes[id] = bytes;
            ordered.Add(id);
            LongestToken = Math.Max(LongestToken, bytes.Length);
        }
        ordered.Sort((a, b) => _bytes[a].AsSpan().SequenceCompareTo(_bytes[b]));
        BuildTrie(ordered);
    }

    /// <summary>
    /// The vocabulary of <paramref name="tokenizer"/>, padded to <paramref name="vocabularySize"/> entries when the model's
    /// output has more rows than the tokenizer has tokens (the extra ids are never allowed).
    /// </summary>
    public static GrammarVocabulary FromTokenizer(Tokenizer tokenizer, int? vocabularySize = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int size = vocabularySize ?? tokenizer.VocabularySize;
        if (size < tokenizer.VocabularySize)
            throw new ArgumentOutOfRangeException(nameof(vocabularySize), size, $"Smaller than the tokenizer's {tokenizer.VocabularySize} tokens.");
        var bytes = new byte[]?[size];
        var endOfGeneration = new List<int>();
        for (int id = 0; id < tokenizer.VocabularySize; id++)
        {
            if (tokenizer.IsEndOfGeneration(id))
                endOfGeneration.Add(id);
            else if (!tokenizer.IsControl(id))
                bytes[id] = tokenizer.TokenBytes(id);
        }
        return new GrammarVocabulary(bytes, endOfGeneration);
    }

    /// <summary>How many token ids there are (allowed or not).</summary>
    public int Count => _bytes.Length;

    /// <summary>The longest token, in bytes.</summary>
    public int LongestToken { get; }

    /// <summary>The tokens that end generation; allowed only where the grammar is complete.</summary>
    public IReadOnlyList<int> EndOfGenerationIds { get; }

    /// <summary>Whether <paramref name="id"/> ends generation.</summary>
    public bool IsEndOfGeneration(int id) => (uint)id < (uint)_bytes.Length && _endOfGeneration[id];

    /// <summary>The bytes of <paramref name="id"/>; empty for ids the grammar never allows (and end-of-generation ids).</summary>
    public ReadOnlySpan<byte> Bytes(int id) => (uint)id < (uint)_bytes.Length ? _bytes[id] : default;

    /// <summary>Nodes of the trie, the root included.</summary>
    internal int NodeCount => Depth.Length;

    /// <summary>Per node: bytes from the root.</summary>
    internal int[] Depth { get; private set; } = [];

    /// <summary>Per node: the byte on the edge from its parent (unused for the root).</summary>
    internal byte[] EdgeByte { get; private set; } = [];

    /// <summary>Per node: the first node after its subtree.</summary>
    internal int[] SubtreeEnd { get; private set; } = [];

    /// <summary>Per node: the range of <see cref="TokenIds"/> holding the tokens that end there (node + 1 ends the range).</summary>
    internal int[] TokenStart { get; private set; } = [];

    /// <summary>Token ids grouped by the node their bytes end at.</summary>
    internal int[] TokenIds { get; private set; } = [];

    // Builds the preorder trie from the tokens in byte order: each token shares its longest common prefix with the
    // previous one, so only its remaining bytes need new nodes, appended in preorder.
    private void BuildTrie(List<int> ordered)
    {
        var depth = new List<int> { 0 };
        var edge = new List<byte> { 0 };
        var tokenNode = new int[ordered.Count];
        var path = new List<int> { 0 }; // path[d] = node at depth d on the current branch
        byte[] previous = [];
        for (int k = 0; k < ordered.Count; k++)
        {
            byte[] bytes = _bytes[ordered[k]]!;
            int common = bytes.AsSpan().CommonPrefixLength(previous);
            path.RemoveRange(common + 1, path.Count - common - 1);
            for (int d = common; d < bytes.Length; d++)
            {
                path.Add(depth.Count);
                depth.Add(d + 1);
                edge.Add(bytes[d]);
            }
            tokenNode[k] = path[bytes.Length];
            previous = bytes;
        }
        int nodes = depth.Count;
        var subtreeEnd = new int[nodes];
        // In preorder a subtree ends at the next node whose depth is not greater; scan with a stack of open nodes.
        var open = new Stack<int>();
        for (int i = 0; i < nodes; i++)
        {
            while (open.Count > 0 && depth[open.Peek()] >= depth[i])
                subtreeEnd[open.Pop()] = i;
            open.Push(i);
        }
        while (open.Count > 0)
            subtreeEnd[open.Pop()] = nodes;
        var tokenStart = new int[nodes + 1];
        foreach (int node in tokenNode)
            tokenStart[node + 1]++;
        for (int i = 0; i < nodes; i++)
            tokenStart[i + 1] += tokenStart[i];
        var fill = tokenStart[..nodes];
        var tokenIds = new int[ordered.Count];
        for (int k = 0; k < ordered.Count; k++)
            tokenIds[fill[tokenNode[k]]++] = ordered[k];
        Depth = [.. depth];
        EdgeByte = [.. edge];
        SubtreeEnd = subtreeEnd;
        TokenStart = tokenStart;
        TokenIds = tokenIds;
    }
}
