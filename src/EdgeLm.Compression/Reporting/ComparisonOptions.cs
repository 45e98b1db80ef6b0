namespace EdgeLm.Compression.Reporting;

/// <summary>What <see cref="ModelComparison.Run"/> compares, and how.</summary>
public sealed record ComparisonOptions
{
    /// <summary>The baseline model (e.g. the F32/F16 original); its KL divergence is 0 by definition.</summary>
    public required string OriginalPath { get; init; }

    /// <summary>Models compared with the original (quantized, pruned, ... copies of it), at least one.</summary>
    public required IReadOnlyList<string> VariantPaths { get; init; }

    /// <summary>Text for perplexity and KL divergence; it must tokenize to at least 2 x <see cref="ContextLength"/> tokens.</summary>
    public required string Text { get; init; }

    /// <summary>Chunk length n: non-overlapping chunks of n tokens, the second half of each scored.</summary>
    public int ContextLength { get; init; } = 512;

    /// <summary>Evaluate at most this many chunks; null for all that fit the text.</summary>
    public int? MaxChunks { get; init; }

    /// <summary>Worker threads for every model; null for one per core.</summary>
    public int? Threads { get; init; }

    /// <summary>Tokens decoded per generation-speed run.</summary>
    public int GeneratedTokens { get; init; } = 32;

    /// <summary>Tokens of the text (from its start) per prompt-speed run; 0 skips the prompt test.</summary>
    public int PromptTokens { get; init; } = 64;

    /// <summary>Measured speed runs per model (the median is reported), after one warm-up.</summary>
    public int Repetitions { get; init; } = 3;

    /// <summary>
    /// Most bytes the original's kept logits may take (chunks x (n - 1 - n/2) x vocabulary x 4); over it the original is
    /// evaluated again for every variant instead. Default 2 GiB.
    /// </summary>
    public long MaxReferenceBytes { get; init; } = 2L << 30;
}
