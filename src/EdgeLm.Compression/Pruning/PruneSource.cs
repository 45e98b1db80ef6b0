using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Architectures;

namespace EdgeLm.Compression.Pruning;

/// <summary>
/// The checks every prune runs on its input before anything is written, and the metadata copy both pruners start
/// from. Pruning works on float weights only: a quantized input is refused (prune the F32/F16/BF16 model, then
/// quantize), because zeroing or removing weights inside quantization blocks would need a requantization that
/// stacks a second error on the first.
/// </summary>
internal static class PruneSource
{
    /// <summary>The matrices of block <paramref name="b"/> that pruning touches, in llama.cpp's names.</summary>
    public static IEnumerable<string> BlockMatrices(int b) =>
    [
        TensorNames.Weight(TensorNames.AttentionQuery(b)),
        TensorNames.Weight(TensorNames.AttentionKey(b)),
        TensorNames.Weight(TensorNames.AttentionValue(b)),
        TensorNames.Weight(TensorNames.AttentionOutput(b)),
        TensorNames.Weight(TensorNames.FeedForwardGate(b)),
        TensorNames.Weight(TensorNames.FeedForwardUp(b)),
        TensorNames.Weight(TensorNames.FeedForwardDown(b)),
    ];

    /// <summary>Refuses an output path that is the input, or whose folder does not exist.</summary>
    public static void CheckPaths(string input, string output)
    {
        if (!File.Exists(input))
            throw new PruneException($"Model file '{input}' does not exist.");
        string full = Path.GetFullPath(output);
        if (string.Equals(Path.GetFullPath(input), full, StringComparison.Ordinal))
            throw new PruneException($"Input and output are the same file ({input}).");
        string? folder = Path.GetDirectoryName(full);
        if (folder is null || !Directory.Exists(folder))
            throw new PruneException($"The output folder '{folder}' does not exist.");
    }

    /// <summary>
    /// Opens <paramref name="path"/> and checks it is a float model of a supported architecture whose shape EdgeLm
    /// understands; returns the file and its hyper-parameters.
    /// </summary>
    public static (GgufFile File, TransformerHyperParameters Shape) Open(string path)
    {
        var file = GgufFile.Open(path);
        try
        {
            var quantized = file.Tensors.Where(t => t.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16)).ToList();
            if (quantized.Count > 0)
                throw new PruneException(
                    $"{path} is quantized ({string.Join(", ", quantized.Select(t => t.Type).Distinct())}, e.g. {quantized[0].Name}); " +
                    "pruning needs the F32, F16 or BF16 model. Prune that one, then quantize the result.");
            Transformer transformer;
            try
            {
                transformer = ArchitectureRegistry.Load(file);
            }
            catch (EdgeLm.Runtime.ModelFormatException e)
            {
                throw new PruneException($"{path} is not a model EdgeLm can prune: {e.Message}");
            }
            return (file, transformer.HyperParameters);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A writer holding <paramref name="source"/>'s version and metadata, in order.</summary>
    public static GgufWriter CopyMetadata(GgufFile source)
    {
        var writer = new GgufWriter(source.Version);
        foreach (var (key, value) in source.MetadataInOrder)
            writer.SetMetadata(key, value);
        return writer;
    }

    /// <summary>Copies a tensor's bytes unchanged.</summary>
    public static void Copy(GgufFile source, GgufTensorInfo info, Stream destination)
    {
        const int Chunk = 1 << 22;
        for (long offset = 0; offset < info.ByteSize; offset += Chunk)
            destination.Write(source.Region.Slice(info.FileOffset + offset, (int)Math.Min(Chunk, info.ByteSize - offset)));
    }

    /// <summary>
    /// Writes a float tensor (F32/F16/BF16) through a row transformation, in its own type. Output row r is source row
    /// <paramref name="rows"/>[r] (all rows when null), narrowed to the source columns <paramref name="columns"/>
    /// (all when null), then passed to <paramref name="transform"/> (with the source row index) before encoding.
    /// Rows are processed in parallel, a slab at a time.
    /// </summary>
    public static void Rewrite(GgufFile source, GgufTensorInfo info, int[]? rows, int[]? columns, Action<long, Span<float>>? transform,
        int threads, Stream destination)
    {
        var type = info.Type;
        int inLength = checked((int)info.RowLength);
        int outLength = columns?.Length ?? inLength;
        long outRows = rows?.Length ?? info.RowCount;
        int inBytes = checked((int)GgmlTypeInfo.RowBytes(type, inLength));
        int outBytes = checked((int)GgmlTypeInfo.RowBytes(type, outLength));
        const long SlabBytes = 1 << 24;
        long slabRows = Math.Max(1, SlabBytes / Math.Max(1, outBytes));
        var buffer = new byte[checked((int)(Math.Min(slabRows, outRows) * outBytes))];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        for (long first = 0; first < outRows; first += slabRows)
        {
            long count = Math.Min(slabRows, outRows - first);
            Parallel.For(0L, count, parallel, () => (new float[inLength], new float[outLength]), (i, _, scratch) =>
            {
                long r = first + i;
                long sourceRow = rows is null ? r : rows[r];
                var (whole, narrowed) = scratch;
                Dequantize.Row(type, source.Region.Slice(info.FileOffset + sourceRow * inBytes, inBytes), whole);
                if (columns is not null)
                {
                    for (int j = 0; j < columns.Length; j++)
                        narrowed[j] = whole[columns[j]];
                }
                var values = columns is null ? whole.AsSpan() : narrowed.AsSpan();
                transform?.Invoke(sourceRow, values);
                EdgeLm.Numerics.Quants.Quantize.Row(type, values, buffer.AsSpan((int)(i * outBytes), outBytes));
                return scratch;
            }, _ => { });
            destination.Write(buffer, 0, (int)(count * outBytes));
        }
    }
}
