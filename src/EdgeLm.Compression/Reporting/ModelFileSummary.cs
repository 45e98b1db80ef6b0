using EdgeLm.Compression.Quantization;
using EdgeLm.Gguf;

namespace EdgeLm.Compression.Reporting;

/// <summary>
/// How big a GGUF model is: its file, its tensors, and their bits per weight as llama.cpp counts them.
/// </summary>
/// <param name="FileBytes">Length of the file on disk (header, metadata, padding and tensors).</param>
/// <param name="TensorBytes">Bytes of all tensor data, every tensor (norms and embeddings included), without padding.</param>
/// <param name="ElementCount">Elements of all tensors: the model's parameter count.</param>
/// <param name="FileType">
/// The <c>general.file_type</c> name (Q4_K_M, F32, ...), or, when the file has none or an unknown value, the tensor type
/// that holds the most bytes.
/// </param>
public sealed record ModelFileSummary(long FileBytes, long TensorBytes, long ElementCount, string FileType)
{
    /// <summary>
    /// Bits per weight as llama.cpp prints "BPW" when it loads a model: all tensors' bytes x 8 over all tensors'
    /// elements, so F32 norms and the embedding count too (for a Q4_K_M file this is a little above the 4.5 of its blocks).
    /// </summary>
    public double BitsPerWeight => ElementCount == 0 ? 0 : TensorBytes * 8.0 / ElementCount;

    /// <summary>File size in MiB (2^20 bytes).</summary>
    public double FileMebibytes => FileBytes / 1048576.0;

    /// <summary>Summarises an open GGUF file.</summary>
    public static ModelFileSummary Of(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        long bytes = 0, elements = 0;
        foreach (var t in file.Tensors)
        {
            bytes += t.ByteSize;
            elements += t.ElementCount;
        }
        return new ModelFileSummary(new FileInfo(file.FilePath).Length, bytes, elements, FileTypeName(file));
    }

    private static string FileTypeName(GgufFile file)
    {
        long? code = file.GetIntegerOrNull(GgufKeys.GeneralFileType);
        if (code is >= 0 and <= uint.MaxValue && Enum.IsDefined((FileType)(uint)code.Value))
            return ((FileType)(uint)code.Value).ToString();
        var dominant = file.Tensors.GroupBy(t => t.Type).MaxBy(g => g.Sum(t => t.ByteSize));
        return dominant is null ? "none" : dominant.Key.ToString();
    }
}
