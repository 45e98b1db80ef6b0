namespace EdgeLm.Compression.Reporting;

/// <summary>
/// The original model's logits over the evaluation chunks, kept so that every variant is compared with one evaluation
/// of the original. Only the rows that perplexity and KL divergence score are kept: positions n/2 .. n-2 of each
/// n-token chunk (see <see cref="Evaluation.Perplexity"/>), so the memory is chunks x (n - 1 - n/2) x vocabulary floats.
/// When that is over the budget nothing is kept and the original is evaluated again for each variant.
/// </summary>
internal sealed class ReferenceLogits
{
    private readonly Func<int[], float[]> _evaluate;
    private readonly int _contextLength;
    private readonly int _vocabulary;
    private readonly int _firstRow;
    private readonly int _rows;
    private readonly List<int[]> _chunkTokens = [];
    private readonly List<float[]> _scoredRows = [];
    private readonly float[] _full;
    private int _replayIndex;

    /// <param name="evaluate">The original model: one chunk from an empty cache to logits [contextLength, vocabulary].</param>
    /// <param name="contextLength">Chunk length n.</param>
    /// <param name="vocabulary">Logits per position.</param>
    /// <param name="chunks">Chunks that will be evaluated.</param>
    /// <param name="maxBytes">Most bytes the kept rows may take; over it nothing is kept.</param>
    public ReferenceLogits(Func<int[], float[]> evaluate, int contextLength, int vocabulary, int chunks, long maxBytes)
    {
        _evaluate = evaluate;
        _contextLength = contextLength;
        _vocabulary = vocabulary;
        _firstRow = contextLength / 2;
        _rows = contextLength - 1 - _firstRow;
        Bytes = BytesFor(contextLength, vocabulary, chunks);
        IsCached = Bytes <= maxBytes;
        _full = new float[contextLength * vocabulary];
    }

    /// <summary>True when the scored rows are kept (the budget allowed it); false when the original is re-evaluated.</summary>
    public bool IsCached { get; }

    /// <summary>Bytes the kept rows take (or would take when <see cref="IsCached"/> is false).</summary>
    public long Bytes { get; }

    /// <summary>Bytes of the scored rows of <paramref name="chunks"/> chunks of <paramref name="contextLength"/> tokens.</summary>
    public static long BytesFor(int contextLength, int vocabulary, int chunks) =>
        (long)chunks * (contextLength - 1 - contextLength / 2) * vocabulary * sizeof(float);

    /// <summary>
    /// First pass: evaluates the original on each chunk in order, keeping the scored rows when cached, and returns its
    /// logits [contextLength, vocabulary].
    /// </summary>
    public float[] Record(int[] chunk)
    {
        float[] logits = _evaluate(chunk);
        if (IsCached)
        {
            _chunkTokens.Add((int[])chunk.Clone());
            _scoredRows.Add(logits.AsSpan(_firstRow * _vocabulary, _rows * _vocabulary).ToArray());
        }
        return logits;
    }

    /// <summary>Starts a new pass over the chunks (one per variant).</summary>
    public void Rewind() => _replayIndex = 0;

    /// <summary>
    /// Later passes: the original's logits for the next chunk, [contextLength, vocabulary]. From the cache only the
    /// scored rows are meaningful (the others are zero), which is all perplexity and KL divergence read.
    /// </summary>
    /// <exception cref="InvalidOperationException">The chunks come in another order or differ from the first pass.</exception>
    public float[] Replay(int[] chunk)
    {
        if (!IsCached)
            return _evaluate(chunk);
        int index = _replayIndex++;
        if (index >= _chunkTokens.Count || !_chunkTokens[index].AsSpan().SequenceEqual(chunk))
            throw new InvalidOperationException($"Chunk {index} was not recorded in this order; the cached logits cannot stand for it.");
        Array.Clear(_full);
        _scoredRows[index].CopyTo(_full.AsSpan(_firstRow * _vocabulary));
        return _full;
    }
}
