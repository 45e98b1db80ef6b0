using EdgeLm.Gguf;

namespace EdgeLm.Compression.Pruning;

/// <summary>
/// Unstructured and N:M pruning: zeroes weights of the blocks' matrices (attn_q/k/v/output, ffn_gate/up/down) and
/// writes the model with the same tensors, types and metadata. The token embedding, the output matrix and the norms
/// are never touched. The comparison group is one output row for both scores (Wanda's choice, and it keeps
/// magnitude and Wanda comparable): each row of W [out, in] loses floor(s x in) weights, or M - N of every M
/// consecutive ones. Every check runs before anything is written, and the file is written atomically, so a failure
/// leaves no output behind.
/// </summary>
public static class UnstructuredPruner
{
    /// <summary>Prunes <paramref name="input"/> into <paramref name="output"/>.</summary>
    /// <exception cref="PruneException">The model or the options do not allow it (see the message); nothing was written.</exception>
    /// <exception cref="GgufFormatException">The input is not a valid GGUF file.</exception>
    public static UnstructuredPruneReport Prune(string input, string output, UnstructuredPruneOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        double sparsity = options.EffectiveSparsity;
        if (options.Pattern is null && !(sparsity > 0 && sparsity < 1))
            throw new PruneException($"Sparsity must be between 0 and 1 (exclusive), got {options.Sparsity}.");
        if (options.Threads is <= 0)
            throw new PruneException($"Threads must be positive, got {options.Threads}.");
        PruneSource.CheckPaths(input, output);

        var (source, shape) = PruneSource.Open(input);
        using (source)
        {
            var targets = new Dictionary<string, float[]?>(StringComparer.Ordinal);
            for (int b = 0; b < shape.BlockCount; b++)
            {
                foreach (string name in PruneSource.BlockMatrices(b))
                    targets[name] = ColumnNorms(source.GetTensor(name), options);
            }

            var writer = PruneSource.CopyMetadata(source);
            var results = new PrunedTensor?[source.Tensors.Count];
            int threads = options.Threads ?? Environment.ProcessorCount;
            for (int i = 0; i < source.Tensors.Count; i++)
            {
                var info = source.Tensors[i];
                if (!targets.TryGetValue(info.Name, out var norms))
                {
                    writer.AddTensor(info.Name, info.Type, info.Dimensions, info.ByteSize, s => PruneSource.Copy(source, info, s));
                    continue;
                }
                int index = i;
                writer.AddTensor(info.Name, info.Type, info.Dimensions, info.ByteSize,
                    s => results[index] = PruneMatrix(source, info, norms, options, threads, s));
            }
            writer.Write(output);
            var pruned = results.OfType<PrunedTensor>().ToList();
            return new UnstructuredPruneReport(output, options.Score, sparsity, options.Pattern, pruned, source.Length, new FileInfo(output).Length);
        }
    }

    /// <summary>
    /// Checks one target matrix against the options and returns its Wanda column norms ||X_j||_2 = sqrt(sum of x_j^2),
    /// [in], or null for magnitude.
    /// </summary>
    private static float[]? ColumnNorms(GgufTensorInfo info, UnstructuredPruneOptions options)
    {
        if (info.Rank != 2)
            throw new PruneException($"Tensor {info.Name} has {info.Rank} dimensions; only 2-D matrices can be pruned.");
        if (options.Pattern is { } p && info.RowLength % p.M != 0)
            throw new PruneException($"Rows of {info.Name} hold {info.RowLength} weights, which do not split into groups of {p.M} for {p}.");
        if (options.Score != PruneScore.Wanda)
            return null;
        var matrix = options.Importance ?? throw new PruneException("Wanda needs input-activation statistics: give calibration text or an importance matrix.");
        var entry = matrix.Find(info.Name) ?? throw new PruneException($"The importance matrix has no data for {info.Name}; it was computed for another model or without that tensor.");
        if (entry.MatrixCount != 1 || entry.ColumnCount != info.RowLength)
            throw new PruneException($"The importance matrix has {entry.SumOfSquares.Length} values for {info.Name}, whose rows hold {info.RowLength} weights: it was computed for another model.");
        var norms = new float[entry.SumOfSquares.Length];
        for (int j = 0; j < norms.Length; j++)
        {
            float s = entry.SumOfSquares[j];
            if (!float.IsFinite(s) || s < 0)
                throw new PruneException($"The importance matrix holds an invalid value ({s}) for {info.Name}, column {j}.");
            norms[j] = MathF.Sqrt(s);
        }
        return norms;
    }

    /// <summary>Writes one matrix with each row pruned; counts zeros before and after.</summary>
    private static PrunedTensor PruneMatrix(GgufFile source, GgufTensorInfo info, float[]? norms, UnstructuredPruneOptions options,
        int threads, Stream destination)
    {
        int n = checked((int)info.RowLength);
        int perRow = options.Pattern is { } p ? n / p.M * (p.M - p.N) : RowPruning.PrunedCount(n, options.Sparsity);
        long before = 0, after = 0;
        var scratch = new ThreadLocal<(float[] Scores, float[] Keys, int[] Order)>(() => (new float[n], new float[n], new int[n]));
        PruneSource.Rewrite(source, info, rows: null, columns: null, (_, row) =>
        {
            var (scores, keys, order) = scratch.Value;
            Interlocked.Add(ref before, CountZeros(row));
            if (norms is null)
                RowPruning.MagnitudeScores(row, scores);
            else
                RowPruning.WandaScores(row, norms, scores);
            if (options.Pattern is { } pattern)
                RowPruning.PruneGroups(row, scores, pattern);
            else
                RowPruning.PruneLowest(row, scores, perRow, order, keys);
            Interlocked.Add(ref after, CountZeros(row));
        }, threads, destination);
        scratch.Dispose();
        return new PrunedTensor(info.Name, info.RowCount, n, (long)perRow * info.RowCount, before, after);
    }

    private static long CountZeros(ReadOnlySpan<float> row)
    {
        long zeros = 0;
        foreach (float v in row)
        {
            if (v == 0f)
                zeros++;
        }
        return zeros;
    }
}
