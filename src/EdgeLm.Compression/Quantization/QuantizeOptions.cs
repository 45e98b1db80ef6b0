using EdgeLm.Compression.Importance;

namespace EdgeLm.Compression.Quantization;

/// <summary>How <see cref="ModelQuantizer"/> quantizes a model (llama-quantize's options).</summary>
public sealed record QuantizeOptions
{
    /// <summary>The file type to write: a plain type or one of llama.cpp's k-quant mixes.</summary>
    public required FileType FileType { get; init; }

    /// <summary>Worker threads; null for one per core.</summary>
    public int? Threads { get; init; }

    /// <summary>Importance matrix guiding the quantizers (llama-quantize --imatrix); null for none.</summary>
    public ImportanceMatrix? Importance { get; init; }

    /// <summary>The path the importance matrix was read from, recorded in the output's metadata as llama-quantize does.</summary>
    public string? ImportancePath { get; init; }

    /// <summary>Allow quantizing tensors that are already quantized (llama-quantize --allow-requantize).</summary>
    public bool AllowRequantize { get; init; }

    /// <summary>One type for every quantized tensor: no mix rules (llama-quantize --pure); fallbacks still apply.</summary>
    public bool Pure { get; init; }

    /// <summary>Quantize output.weight too (llama-quantize's default; false is --leave-output-tensor).</summary>
    public bool QuantizeOutputTensor { get; init; } = true;

    /// <summary>Per-tensor types by name pattern, tried in order (llama-quantize --tensor-type); the first match wins.</summary>
    public IReadOnlyList<TensorTypeOverride> TensorTypes { get; init; } = [];

    /// <summary>Called from worker threads as rows are quantized; keep it cheap and thread-safe.</summary>
    public Action<QuantizationProgress>? Progress { get; init; }
}

/// <summary>How far a quantization has got.</summary>
/// <param name="Tensor">The tensor being written.</param>
/// <param name="TensorIndex">Its position, 0-based, among <paramref name="TensorCount"/>.</param>
/// <param name="TensorCount">Tensors in the file.</param>
/// <param name="ElementsDone">Elements written so far, all tensors.</param>
/// <param name="ElementsTotal">Elements in the whole model.</param>
public readonly record struct QuantizationProgress(string Tensor, int TensorIndex, int TensorCount, long ElementsDone, long ElementsTotal);

/// <summary>What a quantization produced.</summary>
/// <param name="Path">The file written.</param>
/// <param name="FileType">Its file type.</param>
/// <param name="Tensors">Every tensor's plan, in file order.</param>
/// <param name="OriginalBytes">Tensor data bytes of the source.</param>
/// <param name="QuantizedBytes">Tensor data bytes written.</param>
/// <param name="ElementCount">Weights in the model.</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
/// <param name="Warnings">Things the user should know (requantizing, fallbacks, tensors without importance data).</param>
public sealed record QuantizationReport(string Path, FileType FileType, IReadOnlyList<TensorPlan> Tensors, long OriginalBytes, long QuantizedBytes,
    long ElementCount, TimeSpan Elapsed, IReadOnlyList<string> Warnings)
{
    /// <summary>Tensor data bits per weight, over all tensors (llama-quantize's "quant size ... BPW").</summary>
    public double BitsPerWeight => ElementCount == 0 ? 0 : QuantizedBytes * 8.0 / ElementCount;
}

/// <summary>A model cannot be quantized as asked; the message says which tensor and why. Nothing is written.</summary>
public sealed class QuantizationException(string message) : Exception(message);
