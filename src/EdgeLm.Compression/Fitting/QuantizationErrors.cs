using EdgeLm.Gguf;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Compression.Fitting;

/// <summary>
/// Which types a tensor may take, and the importance-weighted squared error each leaves:
/// <c>sum over rows i, columns j of imp_j (w_ij - q_ij)^2</c>, where q is the tensor quantized to the type (with the
/// same quantizer <see cref="Quantization.ModelQuantizer"/> writes with) and read back.
/// </summary>
public static class QuantizationErrors
{
    /// <summary>Every type <c>fit</c> considers, cheapest first (llama.cpp's k-quants, legacy quants and F16).</summary>
    public static IReadOnlyList<GgmlType> AllTypes { get; } =
    [
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_K,
        GgmlType.Q5_1, GgmlType.Q6_K, GgmlType.Q8_0, GgmlType.F16,
    ];

    /// <summary>
    /// The types a tensor with rows of <paramref name="rowLength"/> weights can take: those among
    /// <paramref name="allowed"/> (all of <see cref="AllTypes"/> when null) whose block divides the rows (256 for the
    /// k-quants, 32 for the legacy types) and that EdgeLm can both write and multiply. F16 always fits.
    /// </summary>
    public static IReadOnlyList<GgmlType> CandidateTypes(long rowLength, IReadOnlyCollection<GgmlType>? allowed)
    {
        var list = new List<GgmlType>();
        foreach (var type in AllTypes)
        {
            if (allowed is not null && !allowed.Contains(type))
                continue;
            if (rowLength % GgmlTypeInfo.BlockSize(type) == 0 && Quantize.IsSupported(type) && VecDot.IsSupported(type) && Dequantize.IsSupported(type))
                list.Add(type);
        }
        return list;
    }

    /// <summary>
    /// Measures, for each of <paramref name="types"/>, the importance-weighted squared error of tensor
    /// <paramref name="tensor"/>, and the importance-weighted squared norm <c>sum imp_j w_ij^2</c>. With more rows than
    /// <paramref name="maxRows"/>, evenly spaced rows are measured and the sums scaled to the whole tensor.
    /// </summary>
    /// <param name="file">The source model.</param>
    /// <param name="tensor">A tensor of <paramref name="file"/> stored in a type EdgeLm can read.</param>
    /// <param name="types">Types to measure.</param>
    /// <param name="importance">Mean squared activations per column, [matrices x rowLength] (an imatrix entry), or null for 1 everywhere.</param>
    /// <param name="maxRows">Most rows to quantize; null for all.</param>
    /// <param name="threads">Worker threads.</param>
    public static (double[] Errors, double Norm) Measure(GgufFile file, GgufTensorInfo tensor, IReadOnlyList<GgmlType> types,
        float[]? importance, int? maxRows, int threads)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(types);
        int n = checked((int)tensor.RowLength);
        long rows = tensor.RowCount;
        long rowsPerMatrix = tensor.Rank > 1 ? tensor.Dimension(1) : 1;
        if (importance is not null && importance.Length % n != 0)
            throw new ArgumentException($"{importance.Length} importance values do not split into rows of {n}.", nameof(importance));
        long sampled = maxRows is { } m && m < rows ? Math.Max(1, m) : rows;
        int inBytes = checked((int)GgmlTypeInfo.RowBytes(tensor.Type, n));
        int maxOut = types.Count == 0 ? 0 : types.Max(t => checked((int)GgmlTypeInfo.RowBytes(t, n)));

        var errors = new double[types.Count];
        double norm = 0;
        var gate = new Lock();
        Parallel.For(0L, sampled, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) },
            () => new Worker(n, maxOut, types.Count),
            (s, _, w) =>
            {
                long r = sampled == rows ? s : s * rows / sampled;
                Dequantize.Row(tensor.Type, file.Region.Slice(tensor.FileOffset + r * inBytes, inBytes), w.Row);
                ReadOnlySpan<float> imp = importance is null ? default
                    : importance.AsSpan((int)(r / rowsPerMatrix % (importance.Length / n)) * n, n);
                double rowNorm = 0;
                for (int j = 0; j < n; j++)
                    rowNorm += (imp.IsEmpty ? 1 : imp[j]) * (double)w.Row[j] * w.Row[j];
                w.Norm += rowNorm;
                for (int k = 0; k < types.Count; k++)
                {
                    var bytes = w.Bytes.AsSpan(0, (int)GgmlTypeInfo.RowBytes(types[k], n));
                    ImportanceQuantize.Row(types[k], w.Row, bytes, imp);
                    Dequantize.Row(types[k], bytes, w.Back);
                    double e = 0;
                    for (int j = 0; j < n; j++)
                    {
                        double d = w.Row[j] - w.Back[j];
                        e += (imp.IsEmpty ? 1 : imp[j]) * d * d;
                    }
                    w.Errors[k] += e;
                }
                return w;
            },
            w =>
            {
                lock (gate)
                {
                    norm += w.Norm;
                    for (int k = 0; k < errors.Length; k++)
                        errors[k] += w.Errors[k];
                }
            });
        double scale = (double)rows / sampled;
        for (int k = 0; k < errors.Length; k++)
            errors[k] *= scale;
        return (errors, norm * scale);
    }

    private sealed class Worker(int rowLength, int maxBytes, int types)
    {
        public float[] Row { get; } = new float[rowLength];
        public float[] Back { get; } = new float[rowLength];
        public byte[] Bytes { get; } = new byte[maxBytes];
        public double[] Errors { get; } = new double[types];
        public double Norm;
    }
}
