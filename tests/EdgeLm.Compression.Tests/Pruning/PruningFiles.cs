using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Compression.Tests.Pruning;

/// <summary>Reads tensors of a test model back as floats, and writes copies with some weights zeroed.</summary>
internal static class PruningFiles
{
    /// <summary>A tensor's values, [rows, rowLength] row-major, whatever its float type.</summary>
    public static float[] Read(GgufFile file, string name)
    {
        var info = file.GetTensor(name);
        int n = (int)info.RowLength;
        var values = new float[info.ElementCount];
        int rowBytes = (int)GgmlTypeInfo.RowBytes(info.Type, n);
        var bytes = file.GetTensorBytes(info);
        for (int r = 0; r < info.RowCount; r++)
            Dequantize.Row(info.Type, bytes.Slice(r * rowBytes, rowBytes), values.AsSpan(r * n, n));
        return values;
    }

    /// <summary>
    /// Copies <paramref name="source"/> to <paramref name="output"/> with the same shapes and types, passing every
    /// tensor named in <paramref name="edits"/> through its edit (values [rows, rowLength], changed in place).
    /// </summary>
    public static void WriteEdited(string source, string output, IReadOnlyDictionary<string, Action<float[], int>> edits)
    {
        using var file = GgufFile.Open(source);
        var edited = new GgufWriter(file.Version);
        foreach (var (key, value) in file.MetadataInOrder)
            edited.SetMetadata(key, value);
        foreach (var t in file.Tensors)
        {
            var bytes = file.GetTensorBytes(t).ToArray();
            if (edits.TryGetValue(t.Name, out var edit))
            {
                int n = (int)t.RowLength;
                var values = Read(file, t.Name);
                edit(values, n);
                int rowBytes = (int)GgmlTypeInfo.RowBytes(t.Type, n);
                for (int r = 0; r < t.RowCount; r++)
                    Quantize.Row(t.Type, values.AsSpan(r * n, n), bytes.AsSpan(r * rowBytes, rowBytes));
            }
            edited.AddTensor(t.Name, t.Type, t.Dimensions, bytes);
        }
        edited.Write(output);
    }
}
