namespace EdgeLm.Compression.Pruning;

/// <summary>What unstructured pruning did to one matrix.</summary>
/// <param name="Name">The tensor, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Rows">Output rows (each row is one comparison group, or a run of N:M groups).</param>
/// <param name="RowLength">Weights per row.</param>
/// <param name="Pruned">Weights the pruner set to zero (some may have been zero already).</param>
/// <param name="ZerosBefore">Weights that were exactly zero in the input.</param>
/// <param name="ZerosAfter">Weights that are exactly zero in the output.</param>
public sealed record PrunedTensor(string Name, long Rows, int RowLength, long Pruned, long ZerosBefore, long ZerosAfter)
{
    /// <summary>Elements of the matrix.</summary>
    public long Elements => Rows * RowLength;

    /// <summary>Fraction of the matrix that is zero in the output.</summary>
    public double SparsityAfter => Elements == 0 ? 0 : (double)ZerosAfter / Elements;
}

/// <summary>The outcome of <see cref="UnstructuredPruner.Prune"/>.</summary>
/// <param name="Path">The file written.</param>
/// <param name="Score">How weights were scored.</param>
/// <param name="Sparsity">The fraction of every row zeroed.</param>
/// <param name="Pattern">The N:M pattern, or null.</param>
/// <param name="Tensors">Every pruned matrix, in file order.</param>
/// <param name="InputBytes">Size of the input file.</param>
/// <param name="OutputBytes">Size of the output file (the same layout: zeros are stored, not skipped).</param>
public sealed record UnstructuredPruneReport(string Path, PruneScore Score, double Sparsity, SparsityPattern? Pattern,
    IReadOnlyList<PrunedTensor> Tensors, long InputBytes, long OutputBytes)
{
    /// <summary>Weights zeroed over all pruned matrices.</summary>
    public long Pruned => Tensors.Sum(t => t.Pruned);

    /// <summary>Weights in all pruned matrices.</summary>
    public long Elements => Tensors.Sum(t => t.Elements);
}

/// <summary>The outcome of <see cref="StructuredPruner.Write"/>.</summary>
/// <param name="Path">The file written.</param>
/// <param name="Plan">What was kept.</param>
/// <param name="ParametersBefore">Elements of all tensors of the input.</param>
/// <param name="ParametersAfter">Elements of all tensors of the output.</param>
/// <param name="InputBytes">Size of the input file.</param>
/// <param name="OutputBytes">Size of the output file.</param>
public sealed record StructuredPruneReport(string Path, StructuredPlan Plan, long ParametersBefore, long ParametersAfter, long InputBytes, long OutputBytes);
