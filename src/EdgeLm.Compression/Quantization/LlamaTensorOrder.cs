using System.Globalization;
using EdgeLm.Gguf;

namespace EdgeLm.Compression.Quantization;

/// <summary>
/// The order llama.cpp's model loader keeps tensors in (and llama-quantize writes them in): tensors outside the
/// blocks first, then block 0, 1, ... ; by byte-wise name within each group.
/// </summary>
internal sealed class LlamaTensorOrder : IComparer<GgufTensorInfo>
{
    public static LlamaTensorOrder Instance { get; } = new();

    public int Compare(GgufTensorInfo? x, GgufTensorInfo? y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int a = Layer(x.Name), b = Layer(y.Name);
        return a != b ? a.CompareTo(b) : string.CompareOrdinal(x.Name, y.Name);
    }

    /// <summary>The number after "blk." as sscanf("blk.%d.") reads it, or -1.</summary>
    internal static int Layer(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal))
            return -1;
        int end = 4;
        if (end < name.Length && name[end] is '+' or '-')
            end++;
        while (end < name.Length && char.IsAsciiDigit(name[end]))
            end++;
        return int.TryParse(name.AsSpan(4, end - 4), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int layer) ? layer : -1;
    }
}
