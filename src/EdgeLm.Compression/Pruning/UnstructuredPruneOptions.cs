using EdgeLm.Compression.Importance;

namespace EdgeLm.Compression.Pruning;

/// <summary>How each weight is scored by <see cref="UnstructuredPruner"/>.</summary>
public enum PruneScore
{
    /// <summary>|w|: the smallest weights go.</summary>
    Magnitude,

    /// <summary>|w| x ||X||_2 (Wanda): the weight times the L2 norm of its input column over calibration text.</summary>
    Wanda,
}

/// <summary>What <see cref="UnstructuredPruner"/> zeroes.</summary>
public sealed record UnstructuredPruneOptions
{
    /// <summary>How weights are scored; the comparison group is one output row either way.</summary>
    public PruneScore Score { get; init; } = PruneScore.Magnitude;

    /// <summary>
    /// Fraction of each row zeroed, 0 &lt; s &lt; 1 (floor(s x row length) weights per row); ignored when
    /// <see cref="Pattern"/> is set, which fixes it at 1 - N/M.
    /// </summary>
    public double Sparsity { get; init; } = 0.5;

    /// <summary>An N:M pattern (2:4, 4:8) instead of a free choice per row; null for unstructured.</summary>
    public SparsityPattern? Pattern { get; init; }

    /// <summary>
    /// Input-activation statistics for <see cref="PruneScore.Wanda"/> (an imatrix: per-column sums of squares of every
    /// block matrix's input, from <see cref="ImportanceCollector"/> or a llama.cpp imatrix file); unused for magnitude.
    /// </summary>
    public ImportanceMatrix? Importance { get; init; }

    /// <summary>Worker threads; null for one per core.</summary>
    public int? Threads { get; init; }

    /// <summary>The fraction of each row zeroed: the pattern's when there is one, else <see cref="Sparsity"/>.</summary>
    public double EffectiveSparsity => Pattern?.Sparsity ?? Sparsity;
}
