using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Runtime.Architectures;

/// <summary>
/// Scratch buffers of one forward pass over up to <see cref="MaxBatch"/> tokens, owned by a session and reused for
/// every call, so decoding allocates nothing per token. Shapes are row-major, one row per token of the batch.
/// </summary>
public sealed class ForwardState
{
    /// <summary>Allocates buffers for <paramref name="p"/>'s shapes.</summary>
    public ForwardState(TransformerHyperParameters p, int maxBatch, int contextLength, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        MaxBatch = maxBatch;
        int B = maxBatch, E = p.EmbeddingLength;
        Residual = new float[B * E];
        Normed = new float[B * E];
        Query = new float[B * p.QueryLength];
        Key = new float[B * p.KeyValueLength];
        Value = new float[B * p.KeyValueLength];
        AttentionHeads = new float[B * p.QueryLength];
        Projected = new float[B * E];
        Gate = new float[B * p.FeedForwardLength];
        Up = new float[B * p.FeedForwardLength];
        MatMul = new MatMul(threads);
        int padded = (contextLength + 7) & ~7;
        AttentionTokens = AttentionTokensPerUnit(p, contextLength);
        int queries = AttentionTokens * p.GroupSize;
        Attention = new AttentionScratch[MatMul.Threads];
        for (int i = 0; i < Attention.Length; i++)
        {
            Attention[i] = new AttentionScratch(queries * padded, queries * p.HeadDimension);
            // Grown now for the longest context, so attention never allocates while decoding.
            Attention[i].MatMul.Reserve(GgmlType.F16, Math.Max(p.HeadDimension, padded), queries);
            if (p.HeadDimension % BlockQ8_0.BlockSize == 0)
                Attention[i].MatMul.Reserve(GgmlType.Q8_0, p.HeadDimension, queries); // queries against a Q8_0 key cache
        }
        RopeCos = new float[p.RopeDimensionCount / 2];
        RopeSin = new float[p.RopeDimensionCount / 2];
    }

    /// <summary>
    /// Tokens of a prompt that attend together as one unit of work (against one KV head): up to 16, so each key and
    /// value the cache holds is read once for all of them, but fewer when 16 x GroupSize rows of scores over the whole
    /// context would pass 64 Ki floats (256 KiB per thread).
    /// </summary>
    public static int AttentionTokensPerUnit(TransformerHyperParameters p, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(p);
        long padded = (contextLength + 7L) & ~7L;
        return (int)Math.Clamp((64L << 10) / (p.GroupSize * padded), 1, 16);
    }

    /// <summary>Tokens per attention unit (<see cref="AttentionTokensPerUnit"/>).</summary>
    public int AttentionTokens { get; }

    /// <summary>Most tokens one forward call can take.</summary>
    public int MaxBatch { get; }

    /// <summary>The residual stream x, [B, E].</summary>
    public float[] Residual { get; }

    /// <summary>RMSNorm output, [B, E].</summary>
    public float[] Normed { get; }

    /// <summary>Queries, [B, HeadCount * HeadDimension].</summary>
    public float[] Query { get; }

    /// <summary>Keys of the batch, [B, KeyValueHeadCount * HeadDimension].</summary>
    public float[] Key { get; }

    /// <summary>Values of the batch, [B, KeyValueHeadCount * HeadDimension].</summary>
    public float[] Value { get; }

    /// <summary>Attention output before the output projection, [B, HeadCount * HeadDimension].</summary>
    public float[] AttentionHeads { get; }

    /// <summary>Output of the attention or feed-forward projection back to the residual width, [B, E].</summary>
    public float[] Projected { get; }

    /// <summary>Feed-forward gate activations (SwiGLU result in place), [B, FeedForwardLength].</summary>
    public float[] Gate { get; }

    /// <summary>Feed-forward up activations, [B, FeedForwardLength].</summary>
    public float[] Up { get; }

    /// <summary>The matrix multiplier with its thread count and activation scratch.</summary>
    public MatMul MatMul { get; }

    /// <summary>One attention scratch per worker thread (part of <see cref="MatMul"/>'s worker team).</summary>
    internal AttentionScratch[] Attention { get; }

    /// <summary>RoPE cosines of one position, [RopeDimensionCount / 2].</summary>
    internal float[] RopeCos { get; }

    /// <summary>RoPE sines of one position, [RopeDimensionCount / 2].</summary>
    internal float[] RopeSin { get; }

    /// <summary>Next unit of the attention job in flight (a shared counter the worker threads take units from).</summary>
    internal int NextAttentionUnit;

    /// <summary>The attention job, created on first use and reused.</summary>
    internal Transformer.AttentionJob? AttentionJob;
}

/// <summary>
/// What one thread needs to attend one unit: a KV head's group of query heads for up to
/// <see cref="ForwardState.AttentionTokens"/> consecutive tokens (A = tokens x GroupSize query rows).
/// </summary>
internal sealed class AttentionScratch(int queryRowsTimesPaddedContext, int queryRowsTimesHeadDimension)
{
    /// <summary>Scores, then probabilities, of the unit's query rows, [A, positions] (row stride = positions).</summary>
    public float[] Scores { get; } = new float[queryRowsTimesPaddedContext];

    /// <summary>The probabilities padded with zeros to a multiple of 8 positions, [A, padded positions].</summary>
    public float[] Probabilities { get; } = new float[queryRowsTimesPaddedContext];

    /// <summary>The unit's queries gathered from the batch (token rows are QueryLength apart there), [A, HeadDimension].</summary>
    public float[] Queries { get; } = new float[queryRowsTimesHeadDimension];

    /// <summary>The unit's attention output before it is scattered back to the batch's rows, [A, HeadDimension].</summary>
    public float[] Output { get; } = new float[queryRowsTimesHeadDimension];

    /// <summary>A single-threaded multiplier (own activation scratch) for the two small products per unit.</summary>
    public MatMul MatMul { get; } = new(1);
}
