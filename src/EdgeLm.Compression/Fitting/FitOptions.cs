using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Quantization;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Compression.Fitting;

/// <summary>How the error of one tensor's type is made comparable with another tensor's before they are traded off.</summary>
public enum SensitivityModel
{
    /// <summary>The importance-weighted squared error as it is: sum_j imp_j sum_i (w_ij - q_ij)^2.</summary>
    None,

    /// <summary>
    /// The error divided by the tensor's importance-weighted squared norm sum_j imp_j sum_i w_ij^2: the noise-to-signal
    /// ratio of the tensor's output, the same scale for every tensor.
    /// </summary>
    Relative,

    /// <summary>
    /// The error times a measured sensitivity: each tensor alone is quantized to a probe type inside an otherwise
    /// unchanged model and the KL divergence of the next-token distributions over calibration text is measured;
    /// sensitivity = that KL divergence / the tensor's error at the probe type. Needs calibration tokens.
    /// </summary>
    Measured,
}

/// <summary>What <see cref="ModelFitter"/> fits a model into, and how.</summary>
public sealed record FitOptions
{
    /// <summary>Bytes the running model may use in all: weights + KV cache + runtime overhead (<see cref="MemoryModel"/>).</summary>
    public required long Budget { get; init; }

    /// <summary>Context length the KV cache and scratch are sized for.</summary>
    public int ContextLength { get; init; } = 2048;

    /// <summary>How the session's KV cache stores keys and values (F16, or Q8_0 for 53% of it).</summary>
    public KvCacheType CacheType { get; init; } = KvCacheType.F16;

    /// <summary>Prompt batch size of the session (scratch grows with it).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Worker threads for measuring and writing, and the thread count the runtime's scratch is sized for; null for one per core.</summary>
    public int? Threads { get; init; }

    /// <summary>Fixed allowance for the .NET runtime and the rest of the process (EdgeLm's CLI runs in about 40 MiB besides the model).</summary>
    public long Margin { get; init; } = DefaultMargin;

    /// <summary>The default <see cref="Margin"/>: 40 MiB.</summary>
    public const long DefaultMargin = 40L << 20;

    /// <summary>Importance matrix: weights the error of each column, and guides the quantizers as in <c>quantize --imatrix</c>.</summary>
    public ImportanceMatrix? Importance { get; init; }

    /// <summary>Where <see cref="Importance"/> came from (recorded in the output's metadata).</summary>
    public string? ImportancePath { get; init; }

    /// <summary>How errors of different tensors are compared.</summary>
    public SensitivityModel Sensitivity { get; init; } = SensitivityModel.Relative;

    /// <summary>Tokens (BOS first when the model adds one) the <see cref="SensitivityModel.Measured"/> probes run on.</summary>
    public IReadOnlyList<int>? CalibrationTokens { get; init; }

    /// <summary>Chunk length of the sensitivity probes.</summary>
    public int CalibrationContext { get; init; } = 256;

    /// <summary>Most chunks of <see cref="CalibrationTokens"/> the probes use.</summary>
    public int CalibrationChunks { get; init; } = 4;

    /// <summary>Types tensors may take; null for all of <see cref="QuantizationErrors.AllTypes"/>.</summary>
    public IReadOnlyCollection<GgmlType>? AllowedTypes { get; init; }

    /// <summary>Most rows of a tensor quantized to measure its errors (evenly spaced, scaled to the whole); null for all.</summary>
    public int? MaxSampledRows { get; init; } = 256;

    /// <summary>Allow a source whose tensors are already quantized (they are read back to float first).</summary>
    public bool AllowRequantize { get; init; }

    /// <summary>Reports what is being done (one line at a time).</summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>One type a tensor could take.</summary>
/// <param name="Type">The tensor type.</param>
/// <param name="Bytes">Its data bytes, rounded up to the file's alignment (what it adds to the file).</param>
/// <param name="Error">Importance-weighted squared error against the source.</param>
/// <param name="Cost">The error as the solver weighs it (after the sensitivity model).</param>
public readonly record struct CandidateType(GgmlType Type, long Bytes, double Error, double Cost);

/// <summary>The type chosen for one tensor.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="SourceType">Its type in the source.</param>
/// <param name="Type">Its type in the output.</param>
/// <param name="Dimensions">GGUF dimensions, [0] the row length.</param>
/// <param name="Bytes">Data bytes in the output, rounded up to the alignment.</param>
/// <param name="Candidates">What it could have taken (empty for tensors that are copied as they are: norms, 1-D).</param>
/// <param name="Sensitivity">The factor its error was multiplied by (1 without a sensitivity model; 0 for a tensor with a single candidate under the measured model).</param>
public sealed record FittedTensor(string Name, GgmlType SourceType, GgmlType Type, long[] Dimensions, long Bytes,
    IReadOnlyList<CandidateType> Candidates, double Sensitivity)
{
    /// <summary>True when the type was chosen (the tensor is a weight matrix llama.cpp may quantize).</summary>
    public bool Chosen => Candidates.Count > 0;

    /// <summary>The chosen candidate (default for copied tensors).</summary>
    public CandidateType Choice => Candidates.FirstOrDefault(c => c.Type == Type);
}

/// <summary>The types chosen for a model and the memory they need.</summary>
/// <param name="Tensors">Every tensor, in file order.</param>
/// <param name="Memory">Memory of the fitted model at the options' context.</param>
/// <param name="Budget">The budget it fits.</param>
/// <param name="Minimum">Memory with the cheapest type everywhere: the smallest budget that can be met.</param>
/// <param name="FileType">The <c>general.file_type</c> written: the mix named after the type holding the most weights.</param>
/// <param name="Sensitivity">The sensitivity model used.</param>
public sealed record FitPlan(IReadOnlyList<FittedTensor> Tensors, MemoryBreakdown Memory, long Budget, long Minimum, FileType FileType,
    SensitivityModel Sensitivity)
{
    /// <summary>Sum of the chosen candidates' costs: what the solver minimised.</summary>
    public double TotalCost => Tensors.Where(t => t.Chosen).Sum(t => t.Choice.Cost);

    /// <summary>Bits per weight over all tensor data.</summary>
    public double BitsPerWeight => Tensors.Sum(t => GgmlTypeInfo.RowBytes(t.Type, t.Dimensions[0]) * (t.Dimensions.Aggregate(1L, (a, d) => a * d) / t.Dimensions[0])) * 8.0
        / Tensors.Sum(t => t.Dimensions.Aggregate(1L, (a, d) => a * d));
}

/// <summary>A model cannot be fitted as asked (the budget is too small, the input is unusable); nothing was written.</summary>
public sealed class FitException(string message) : Exception(message);
