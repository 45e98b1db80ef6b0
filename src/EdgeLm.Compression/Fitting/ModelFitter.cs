using System.Text.RegularExpressions;
using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Quantization;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Architectures;
using EdgeLm.Runtime.KvCache;
using EdgeLm.Tokenizers;

namespace EdgeLm.Compression.Fitting;

/// <summary>
/// Chooses a type for every weight matrix of a model so that the running model fits a memory budget with the least
/// quantization error, and writes it (<c>edgelm fit</c>). Per tensor, each type llama.cpp could place there is
/// measured (quantize, read back, importance-weighted squared error, scaled by a <see cref="SensitivityModel"/>);
/// a multiple-choice knapsack over those (cost = bytes, value = error) picks one type per tensor under
/// budget - KV cache - runtime overhead - file header; <see cref="ModelQuantizer"/> writes the result with an exact
/// per-tensor type list.
/// </summary>
public static class ModelFitter
{
    // The probe type of the measured sensitivities: the candidate nearest this many bits per weight. Tried: probing at
    // ~4.5 bits gave lower KL divergence than probing at the cheapest type (~2.6), even at Q2_K-sized budgets.
    private const double ProbeBits = 4.5;

    /// <summary>Plans the types without writing anything: <see cref="Measure"/> then <see cref="FitMeasurements.Solve"/>.</summary>
    /// <exception cref="FitException">The budget cannot be met (the message names the minimum; checked before anything is measured), or the model cannot be fitted.</exception>
    /// <exception cref="GgufFormatException">The input is not a valid GGUF file.</exception>
    public static FitPlan Plan(string input, FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Measure(input, options, options.Budget).Solve(options.Budget);
    }

    /// <summary>
    /// Measures every candidate type of every tensor (errors and sensitivities) once; the result can then be solved for
    /// any budget. <see cref="FitOptions.Budget"/> is not used.
    /// </summary>
    /// <exception cref="FitException">The model cannot be fitted (not runnable, already quantized, no allowed type fits a tensor).</exception>
    public static FitMeasurements Measure(string input, FitOptions options) => Measure(input, options, null);

    /// <summary>Plans the types and writes the fitted model to <paramref name="output"/> (atomically; nothing on failure).</summary>
    public static (FitPlan Plan, QuantizationReport Report) Fit(string input, string output, FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        if (string.Equals(Path.GetFullPath(input), Path.GetFullPath(output), StringComparison.Ordinal))
            throw new FitException($"Input and output are the same file ({input}).");
        var plan = Plan(input, options);
        return (plan, Write(input, output, plan, options));
    }

    /// <summary>Writes <paramref name="plan"/> (made by <see cref="Plan(string, FitOptions)"/> for the same input).</summary>
    /// <exception cref="FitException">The plan does not match this input or these options (the file would not be the planned size); nothing was written.</exception>
    public static QuantizationReport Write(string input, string output, FitPlan plan, FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        if (string.Equals(Path.GetFullPath(input), Path.GetFullPath(output), StringComparison.Ordinal))
            throw new FitException($"Input and output are the same file ({input}).");
        var quantize = QuantizeOptionsFor(plan, options);
        using (var source = GgufFile.Open(input))
        {
            // The quantizer must place exactly the planned types, or the memory sums would not hold.
            var planned = TensorTypePlanner.Plan(source, quantize);
            foreach (var p in planned)
            {
                var mine = plan.Tensors.FirstOrDefault(t => t.Name == p.Name)
                    ?? throw new FitException($"The plan has no entry for tensor {p.Name}: it was made for another model.");
                if (mine.Type != p.TargetType)
                    throw new InvalidOperationException($"Tensor {p.Name}: the quantizer would write {p.TargetType}, the plan says {mine.Type}.");
            }
            // And the file must be the planned size (the importance matrix's metadata is part of the header).
            var (header, _) = ModelQuantizer.Layout(source, quantize);
            long size = header + plan.Tensors.Sum(t => t.Bytes);
            if (size != plan.Memory.Weights)
                throw new FitException($"The file would be {size} bytes, not the planned {plan.Memory.Weights}: write with the options (importance matrix) the plan was made with.");
        }
        options.Progress?.Invoke("writing");
        try
        {
            return ModelQuantizer.Quantize(input, output, quantize);
        }
        catch (QuantizationException e)
        {
            throw new FitException(e.Message);
        }
    }

    private static void Validate(FitOptions o)
    {
        if (o.Budget <= 0) throw new ArgumentOutOfRangeException(nameof(o), o.Budget, "The budget must be positive.");
        if (o.ContextLength <= 0) throw new ArgumentOutOfRangeException(nameof(o), o.ContextLength, "The context length must be positive.");
        if (o.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(o), o.BatchSize, "The batch size must be positive.");
        if (o.Margin < 0) throw new ArgumentOutOfRangeException(nameof(o), o.Margin, "The margin cannot be negative.");
        if (o.Threads is <= 0) throw new ArgumentOutOfRangeException(nameof(o), o.Threads, "The thread count must be positive.");
        if (o.MaxSampledRows is <= 0) throw new ArgumentOutOfRangeException(nameof(o), o.MaxSampledRows, "The sampled rows must be positive.");
        if (o.AllowedTypes is { Count: 0 }) throw new FitException("No tensor types are allowed.");
        if (o.Sensitivity == SensitivityModel.Measured && o.CalibrationTokens is null)
            throw new FitException("The measured sensitivity model needs calibration text.");
    }

    private static FitMeasurements Measure(string input, FitOptions options, long? budget)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        using var source = GgufFile.Open(input);
        int threads = options.Threads ?? Environment.ProcessorCount;
        Transformer model;
        try
        {
            model = ArchitectureRegistry.Load(source);
        }
        catch (Runtime.ModelFormatException e)
        {
            throw new FitException($"{source.FilePath} is not a model EdgeLm can run, so it cannot size it: {e.Message}");
        }
        var p = model.HyperParameters;
        if (!KvCacheTypes.Supports(options.CacheType, p.HeadDimension))
            throw new FitException($"A {KvCacheTypes.Name(options.CacheType)} KV cache needs heads a multiple of 32 wide; this model's are {p.HeadDimension}.");
        var quantized = source.Tensors.Where(t => FileTypes.IsQuantized(t.Type)).ToList();
        if (quantized.Count > 0 && !options.AllowRequantize)
            throw new FitException($"{source.FilePath} is already quantized ({quantized[0].Name} is {quantized[0].Type}); fit the F32/F16/BF16 model, or allow requantizing.");

        // Layout of the output: the header does not depend on the types, each tensor adds its bytes rounded to the alignment.
        var (header, alignment) = ModelQuantizer.Layout(source, new QuantizeOptions { FileType = FileType.Q8_0, Importance = options.Importance, ImportancePath = options.ImportancePath });
        long Aligned(long bytes) => (bytes + alignment - 1) / alignment * alignment;
        long Bytes(GgmlType type, long[] dims) => Aligned(GgmlTypeInfo.RowBytes(type, dims[0]) * (dims.Aggregate(1L, (a, d) => a * d) / dims[0]));

        // The tensors in the order the quantizer writes them; which ones get a choice is llama.cpp's rule (AllowsQuantization).
        var order = source.Tensors.OrderBy(t => t, LlamaTensorOrder.Instance).ToList();
        var candidateTypes = new IReadOnlyList<GgmlType>?[order.Count];
        long copiedBytes = 0;
        for (int i = 0; i < order.Count; i++)
        {
            var info = order[i];
            if (!TensorTypePlanner.AllowsQuantization(info.Name, info.Dimensions, quantizeOutput: true))
            {
                copiedBytes += Bytes(info.Type, info.Dimensions);
                continue;
            }
            var types = candidateTypes[i] = QuantizationErrors.CandidateTypes(info.RowLength, options.AllowedTypes);
            if (types.Count == 0)
                throw new FitException($"Tensor {info.Name} has rows of {info.RowLength} weights, which none of the allowed types ({string.Join(", ", options.AllowedTypes!)}) can hold; allow F16.");
        }
        var memory = new MemoryBreakdown(header + copiedBytes, MemoryModel.KvCacheBytes(p, options.ContextLength, options.CacheType),
            MemoryModel.ActivationBytes(p, options.ContextLength, threads, options.BatchSize), MemoryModel.LogitsBytes(p),
            MemoryModel.TokenizerBytes(p, header), options.Margin);
        long minimum = memory.Total + order.Select((t, i) => candidateTypes[i]?.Min(type => Bytes(type, t.Dimensions)) ?? 0).Sum();
        if (budget is { } b && b < minimum)
            throw FitMeasurements.TooSmall(b, minimum, memory, options.ContextLength);

        SensitivityProbe? probe = null;
        try
        {
            if (options.Sensitivity == SensitivityModel.Measured)
            {
                options.Progress?.Invoke("running the calibration text through the original model");
                var tokenizer = Tokenizer.FromGguf(source);
                probe = new SensitivityProbe(model, source.FindTensor(TensorNames.Weight(TensorNames.Output)) is null, options.CalibrationTokens!,
                    options.CalibrationContext, options.CalibrationChunks, tokenizer.AddBos ? tokenizer.BosId : null, threads);
            }
            var tensors = new List<FittedTensor>(order.Count);
            for (int i = 0; i < order.Count; i++)
            {
                var info = order[i];
                var dims = info.Dimensions;
                if (candidateTypes[i] is not { } types)
                {
                    tensors.Add(new FittedTensor(info.Name, info.Type, info.Type, dims, Bytes(info.Type, dims), [], 1));
                    continue;
                }
                options.Progress?.Invoke($"measuring {info.Name}");
                float[]? importance = ImportanceOf(options.Importance, info);
                var (errors, norm) = QuantizationErrors.Measure(source, info, types, importance, options.MaxSampledRows, threads);
                double sensitivity = options.Sensitivity switch
                {
                    SensitivityModel.None => 1,
                    SensitivityModel.Relative => norm > 0 ? 1 / norm : 0,
                    // With one candidate there is nothing to trade, so no probe is run.
                    _ when types.Count == 1 => 0,
                    _ => MeasuredSensitivity(probe!, source, info, types, errors, importance, threads),
                };
                var candidates = types.Select((t, k) => new CandidateType(t, Bytes(t, dims), errors[k], errors[k] * sensitivity)).ToList();
                var cheapest = candidates.MinBy(c => c.Bytes);
                tensors.Add(new FittedTensor(info.Name, info.Type, cheapest.Type, dims, cheapest.Bytes, candidates, sensitivity));
            }
            return new FitMeasurements(input, tensors, memory, minimum, options.ContextLength, options.Sensitivity);
        }
        finally
        {
            probe?.Dispose();
        }
    }

    /// <summary>s = KL divergence with the tensor alone at the probe type / its error there (the probe type: the candidate nearest 4.5 bits per weight).</summary>
    private static double MeasuredSensitivity(SensitivityProbe probe, GgufFile source, GgufTensorInfo info, IReadOnlyList<GgmlType> types,
        double[] errors, float[]? importance, int threads)
    {
        int k = Enumerable.Range(0, types.Count).MinBy(i => Math.Abs(GgmlTypeInfo.BitsPerWeight(types[i]) - ProbeBits));
        if (errors[k] <= 0)
            return 0;
        var bytes = QuantizeTensor(source, info, types[k], importance, threads);
        return probe.Measure(info.Name, types[k], bytes) / errors[k];
    }

    /// <summary>The whole tensor in <paramref name="type"/>, as the quantizer writes it.</summary>
    private static byte[] QuantizeTensor(GgufFile source, GgufTensorInfo info, GgmlType type, float[]? importance, int threads)
    {
        int n = checked((int)info.RowLength);
        long rows = info.RowCount;
        int inBytes = checked((int)GgmlTypeInfo.RowBytes(info.Type, n)), outBytes = checked((int)GgmlTypeInfo.RowBytes(type, n));
        var result = GC.AllocateUninitializedArray<byte>(checked((int)(rows * outBytes)), pinned: false);
        Parallel.For(0L, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => new float[n], (r, _, row) =>
        {
            Dequantize.Row(info.Type, source.Region.Slice(info.FileOffset + r * inBytes, inBytes), row);
            var imp = importance is null ? default : importance.AsSpan(0, n);
            ImportanceQuantize.Row(type, row, result.AsSpan((int)(r * outBytes), outBytes), imp);
            return row;
        }, _ => { });
        return result;
    }

    /// <summary>The mean squared activations of a tensor's columns from the importance matrix, when it has them at the right size.</summary>
    private static float[]? ImportanceOf(ImportanceMatrix? matrix, GgufTensorInfo info)
    {
        if (matrix?.Find(info.Name) is not { } entry)
            return null;
        long expected = info.RowLength * (info.Rank > 2 ? info.Dimension(2) : 1);
        return entry.SumOfSquares.Length == expected ? entry.MeanSquares() : null;
    }

    /// <summary>The quantizer's options that write exactly the planned types: one anchored override per chosen tensor.</summary>
    private static QuantizeOptions QuantizeOptionsFor(FitPlan plan, FitOptions options) => new()
    {
        FileType = plan.FileType,
        Threads = options.Threads,
        Importance = options.Importance,
        ImportancePath = options.ImportancePath,
        AllowRequantize = options.AllowRequantize,
        TensorTypes = plan.Tensors.Where(t => t.Chosen).Select(t => new TensorTypeOverride($"^{Regex.Escape(t.Name)}$", t.Type)).ToList(),
        Progress = null,
    };
}
