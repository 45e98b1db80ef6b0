using EdgeLm.Numerics.Quants;

namespace EdgeLm.Runtime.Synthesis;

/// <summary>
/// The shape of a model to write with random weights: a real architecture (llama or qwen2) at any size, for
/// tests and benchmarks that need a model nobody has to download.
/// </summary>
public sealed record SynthesisOptions
{
    /// <summary>"llama" or "qwen2".</summary>
    public required string Architecture { get; init; }

    /// <summary>Residual width.</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary>Number of blocks.</summary>
    public required int BlockCount { get; init; }

    /// <summary>Query heads.</summary>
    public required int HeadCount { get; init; }

    /// <summary>Key/value heads (fewer than <see cref="HeadCount"/> for grouped-query attention).</summary>
    public required int KeyValueHeadCount { get; init; }

    /// <summary>Feed-forward hidden width.</summary>
    public required int FeedForwardLength { get; init; }

    /// <summary>Storage type of the matrices: F32, F16 or BF16 (norms and biases stay F32, as llama.cpp writes them).</summary>
    public GgmlType Type { get; init; } = GgmlType.F32;

    /// <summary>Standard deviation of the normal distribution the matrix weights are drawn from.</summary>
    public float StandardDeviation { get; init; } = 0.02f;

    /// <summary>Seed: the same options and seed write the same bytes.</summary>
    public ulong Seed { get; init; }

    /// <summary>Write no output matrix, so the token embedding doubles as the output projection.</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>Trained context length recorded in the metadata.</summary>
    public int ContextLength { get; init; } = 2048;

    /// <summary>RoPE base frequency.</summary>
    public float RopeFrequencyBase { get; init; } = 10000f;

    /// <summary>
    /// Per-frequency RoPE divisors to store as the <c>rope_freqs</c> tensor (Llama 3 scaling, see
    /// <see cref="Architectures.Llama3RopeScaling"/>), [head width / 2]; null writes none.
    /// </summary>
    public float[]? RopeFrequencyFactors { get; init; }

    /// <summary>RMSNorm epsilon.</summary>
    public float RmsNormEpsilon { get; init; } = 1e-5f;

    /// <summary>Checks the shape and names the first bad value.</summary>
    public void Validate()
    {
        if (Architecture is not ("llama" or "qwen2"))
            throw new ArgumentException($"Architecture '{Architecture}' cannot be synthesized (llama, qwen2).", nameof(Architecture));
        Positive(EmbeddingLength, nameof(EmbeddingLength));
        Positive(BlockCount, nameof(BlockCount));
        Positive(HeadCount, nameof(HeadCount));
        Positive(KeyValueHeadCount, nameof(KeyValueHeadCount));
        Positive(FeedForwardLength, nameof(FeedForwardLength));
        Positive(ContextLength, nameof(ContextLength));
        if (EmbeddingLength % HeadCount != 0)
            throw new ArgumentException($"The embedding length {EmbeddingLength} must be a multiple of the head count {HeadCount}.", nameof(EmbeddingLength));
        if (HeadCount % KeyValueHeadCount != 0)
            throw new ArgumentException($"The head count {HeadCount} must be a multiple of the key/value head count {KeyValueHeadCount}.", nameof(KeyValueHeadCount));
        if ((EmbeddingLength / HeadCount) % 2 != 0)
            throw new ArgumentException($"The head width {EmbeddingLength / HeadCount} must be even for RoPE.", nameof(HeadCount));
        if (Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
            throw new ArgumentException($"Synthesized weights are written as F32, F16 or BF16, not {Type}; quantize afterwards.", nameof(Type));
        if (RopeFrequencyFactors is { } factors && factors.Length != EmbeddingLength / HeadCount / 2)
            throw new ArgumentException($"RoPE frequency factors need {EmbeddingLength / HeadCount / 2} values (half the head width), got {factors.Length}.", nameof(RopeFrequencyFactors));
        if (!(StandardDeviation > 0) || float.IsInfinity(StandardDeviation))
            throw new ArgumentException($"The standard deviation must be a positive number, got {StandardDeviation}.", nameof(StandardDeviation));
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0 || value > 1 << 20)
            throw new ArgumentException($"{name} must be between 1 and {1 << 20}, got {value}.", name);
    }
}
