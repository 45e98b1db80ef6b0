using EdgeLm.Numerics.Kernels;

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
        Scores = new float[contextLength];
        QueryHalf = new ushort[p.HeadDimension];
        KeyRow = new float[p.HeadDimension];
        MatMul = new MatMul(threads);
    }

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

    /// <summary>Attention scores of one query head against every cached position, [contextLength].</summary>
    public float[] Scores { get; }

    /// <summary>One query head rounded to half precision, as llama.cpp does before multiplying with an F16 cache, [HeadDimension].</summary>
    public ushort[] QueryHalf { get; }

    /// <summary>One cached value row converted to single precision, [HeadDimension].</summary>
    public float[] KeyRow { get; }

    /// <summary>The matrix multiplier with its thread count and activation scratch.</summary>
    public MatMul MatMul { get; }
}
