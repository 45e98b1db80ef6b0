using System.Diagnostics;
using EdgeLm.Compression.Importance;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Compression.Quantization;

/// <summary>
/// Writes a quantized copy of a GGUF model the way llama.cpp's <c>llama_model_quantize</c> does: the same tensor
/// types (<see cref="TensorTypePlanner"/>), the same bytes per tensor (ggml's reference quantizers, or the
/// importance-weighted ones with an imatrix), the same tensor order and metadata. Rows are quantized on several
/// threads; the file is written atomically, and every check runs before anything is written, so a failure leaves no
/// output behind.
/// </summary>
public static class ModelQuantizer
{
    /// <summary>ggml's current quantization format version, written to <c>general.quantization_version</c>.</summary>
    public const uint QuantizationVersion = 2;

    // Work in slabs of at most this many input weights, so memory stays bounded for any tensor size.
    private const long SlabElements = 1L << 24;

    // Rows handed to a worker at a time: at least 32 x 512 weights, as llama.cpp chunks its work.
    private const int MinChunkElements = 32 * 512;

    /// <summary>
    /// Quantizes <paramref name="input"/> into <paramref name="output"/> as <paramref name="options"/> say.
    /// </summary>
    /// <exception cref="QuantizationException">The model cannot be quantized that way (see the message); nothing was written.</exception>
    /// <exception cref="GgufFormatException">The input is not a valid GGUF file.</exception>
    public static QuantizationReport Quantize(string input, string output, QuantizeOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(options);
        if (string.Equals(Path.GetFullPath(input), Path.GetFullPath(output), StringComparison.Ordinal))
            throw new QuantizationException($"Input and output are the same file ({input}).");
        var clock = Stopwatch.StartNew();
        using var source = GgufFile.Open(input);
        string? requantizing = CheckSource(source, options);
        var plans = TensorTypePlanner.Plan(source, options);
        var warnings = Check(source, plans, options);
        if (requantizing is not null)
            warnings.Insert(0, requantizing);
        var writer = CreateWriter(source, options);

        long total = plans.Sum(p => p.ElementCount), done = 0;
        long originalBytes = 0, quantizedBytes = 0;
        int threads = options.Threads ?? Environment.ProcessorCount;
        for (int i = 0; i < plans.Count; i++)
        {
            var plan = plans[i];
            var info = source.GetTensor(plan.Name);
            long size = RowBytes(plan.TargetType, plan.Dimensions[0]) * (plan.ElementCount / plan.Dimensions[0]);
            originalBytes += info.ByteSize;
            quantizedBytes += size;
            int index = i;
            float[]? importance = plan.Converts ? ImportanceFor(options.Importance, plan) : null;
            writer.AddTensor(plan.Name, plan.TargetType, plan.Dimensions, size, stream =>
            {
                void Report(long elements) => options.Progress?.Invoke(new QuantizationProgress(plan.Name, index, plans.Count, Interlocked.Add(ref done, elements), total));
                if (plan.Converts)
                    Convert(source, info, plan, importance, threads, stream, Report);
                else
                {
                    Copy(source, info, stream);
                    Report(plan.ElementCount);
                }
            });
        }
        writer.Write(output);
        return new QuantizationReport(output, options.FileType, plans, originalBytes, quantizedBytes, total, clock.Elapsed, warnings);
    }

    /// <summary>
    /// Refuses a source that is already quantized below the target, and one that is quantized at all unless
    /// requantizing is allowed (then warns). Runs before the plan, so these are the errors the user sees first.
    /// </summary>
    private static string? CheckSource(GgufFile source, QuantizeOptions options)
    {
        var target = FileTypes.DefaultTensorType(options.FileType);
        // The source's main quantized type (by weights): refusing to "quantize up" keeps users from expecting precision back.
        var quantized = source.Tensors.Where(t => FileTypes.IsQuantized(t.Type)).GroupBy(t => t.Type)
            .Select(g => (Type: g.Key, Elements: g.Sum(t => t.ElementCount))).OrderByDescending(g => g.Elements).ToList();
        if (quantized.Count == 0)
            return null;
        var main = quantized[0].Type;
        if (main == target)
            return null;
        if (GgmlTypeInfo.BitsPerWeight(main) < GgmlTypeInfo.BitsPerWeight(target))
            throw new QuantizationException(
                $"{source.FilePath} is already quantized to {main} ({GgmlTypeInfo.BitsPerWeight(main):0.##} bits per weight), below " +
                $"{options.FileType} ({GgmlTypeInfo.BitsPerWeight(target):0.##}): quantizing it again cannot bring the precision back. Start from the F32/F16/BF16 model.");
        if (!options.AllowRequantize)
            throw new QuantizationException(
                $"{source.FilePath} is already quantized ({main}); requantizing loses more quality than quantizing the F32/F16/BF16 model. Pass --allow-requantize to do it anyway.");
        return $"requantizing from {main}: the result is worse than quantizing the original F32/F16/BF16 model.";
    }

    /// <summary>Every check that can fail, before any byte is written; returns the warnings.</summary>
    private static List<string> Check(GgufFile source, IReadOnlyList<TensorPlan> plans, QuantizeOptions options)
    {
        var warnings = new List<string>();
        foreach (var p in plans.Where(p => p.Converts))
        {
            if (FileTypes.IsQuantized(p.SourceType) && !options.AllowRequantize)
                throw new QuantizationException($"Tensor {p.Name} is already {p.SourceType}; pass --allow-requantize to convert it to {p.TargetType}.");
            if (!Dequantize.IsSupported(p.SourceType))
                throw new QuantizationException($"Tensor {p.Name} is stored as {p.SourceType}, which EdgeLm cannot read back to convert it.");
            if (!EdgeLm.Numerics.Quants.Quantize.IsSupported(p.TargetType))
                throw new QuantizationException($"Tensor {p.Name} would be {p.TargetType}, which EdgeLm cannot write yet.");
            var entry = options.Importance?.Find(p.Name);
            if (entry is not null && (long)entry.SumOfSquares.Length != p.Dimensions[0] * (p.Dimensions.Length > 2 ? p.Dimensions[2] : 1)
                && p.Name is not ("token_embd.weight" or "per_layer_token_embd.weight"))
                throw new QuantizationException(
                    $"The importance matrix has {entry.SumOfSquares.Length} values for {p.Name}, whose rows hold {p.Dimensions[0]} weights: it was computed for another model.");
            if (p.RequiresImportance && entry is null)
                throw new QuantizationException($"{options.FileType} needs an importance matrix for {p.Name} ({p.TargetType}); pass --imatrix.");
        }
        int fallbacks = plans.Count(p => p.FellBack);
        if (fallbacks > 0)
            warnings.Add($"{fallbacks} of {plans.Count} tensors required fallback quantization (rows not a multiple of the block size): " +
                string.Join(", ", plans.Where(p => p.FellBack).Take(4).Select(p => $"{p.Name} -> {p.TargetType}")) + (fallbacks > 4 ? ", ..." : ""));
        if (options.Importance is { } matrix)
        {
            // llama.cpp refuses an importance matrix with a NaN or infinity anywhere (it would poison every search).
            foreach (var e in matrix.Entries)
            {
                if (e.SumOfSquares.Any(v => !float.IsFinite(v)) || e.Counts.Any(c => !float.IsFinite(c)))
                    throw new QuantizationException($"The importance matrix holds a non-finite value for {e.Name}.");
            }
            int missing = plans.Count(p => p.Converts && ImportanceQuantize.UsesImportance(p.TargetType) && matrix.Find(p.Name) is null);
            if (missing > 0)
                warnings.Add($"the importance matrix has no data for {missing} quantized tensors; they are quantized without it.");
        }
        return warnings;
    }

    /// <summary>llama.cpp's metadata: the source's keys, then quantization version and file type (moved to the end), split keys dropped.</summary>
    internal static GgufWriter CreateWriter(GgufFile source, QuantizeOptions options)
    {
        var writer = new GgufWriter();
        foreach (var (key, value) in source.MetadataInOrder)
        {
            writer.SetMetadata(key, value);
        }
        void Append(string key, GgufValue value)
        {
            writer.RemoveMetadata(key);
            writer.SetMetadata(key, value);
        }
        Append(GgufKeys.GeneralQuantizationVersion, GgufValue.From(QuantizationVersion));
        Append(GgufKeys.GeneralFileType, GgufValue.From((uint)options.FileType));
        writer.RemoveMetadata("split.no");
        writer.RemoveMetadata("split.count");
        writer.RemoveMetadata("split.tensors.count");
        if (options.Importance is { } matrix)
        {
            // llama-quantize records where the importance matrix came from.
            string file = options.ImportancePath ?? "";
            Append("quantize.imatrix.file", GgufValue.From(file.Length > 127 ? file[..127] : file));
            if (matrix.Datasets.Count > 0)
                Append("quantize.imatrix.dataset", GgufValue.From(matrix.Datasets[0].Length > 127 ? matrix.Datasets[0][..127] : matrix.Datasets[0]));
            Append("quantize.imatrix.entries_count", GgufValue.From((uint)matrix.Count));
            if (matrix.ChunkCount > 0)
                Append("quantize.imatrix.chunks_count", GgufValue.From((uint)matrix.ChunkCount));
        }
        return writer;
    }

    /// <summary>
    /// The bytes of the file <see cref="Quantize"/> would write before the first tensor's data (header, metadata and
    /// tensor infos, padded to the alignment), and that alignment: the file is this plus every tensor's data rounded
    /// up to the alignment. Neither depends on the tensor types chosen.
    /// </summary>
    internal static (long HeaderBytes, int Alignment) Layout(GgufFile source, QuantizeOptions options)
    {
        var writer = CreateWriter(source, options);
        var tensors = source.Tensors.OrderBy(t => t, LlamaTensorOrder.Instance).ToList();
        // Stand-in tensors of one F32 value with the same names and ranks: their infos take the same bytes.
        foreach (var t in tensors)
            writer.AddTensor(t.Name, GgmlType.F32, Enumerable.Repeat(1L, t.Rank).ToArray(), new byte[4]);
        var counter = new CountingSink();
        writer.WriteTo(counter);
        int alignment = writer.Alignment;
        long data = tensors.Count * ((4L + alignment - 1) / alignment * alignment);
        return (counter.Length - data, alignment);
    }

    /// <summary>A stream that only counts what is written to it.</summary>
    private sealed class CountingSink : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Position;
        public override long Position { get; set; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Position += count;
        public override void Write(ReadOnlySpan<byte> buffer) => Position += buffer.Length;
    }

    /// <summary>The importance values of one tensor (mean squares, [experts x rowLength]), or null to quantize without.</summary>
    private static float[]? ImportanceFor(ImportanceMatrix? matrix, TensorPlan plan)
    {
        if (matrix?.Find(plan.Name) is not { } entry || !ImportanceQuantize.UsesImportance(plan.TargetType))
            return null;
        long expected = plan.Dimensions[0] * (plan.Dimensions.Length > 2 ? plan.Dimensions[2] : 1);
        return entry.SumOfSquares.Length == expected ? entry.MeanSquares() : null;
    }

    private static long RowBytes(GgmlType type, long rowLength) => GgmlTypeInfo.RowBytes(type, rowLength);

    private static void Copy(GgufFile source, GgufTensorInfo info, Stream destination)
    {
        const int Chunk = 1 << 22;
        for (long offset = 0; offset < info.ByteSize; offset += Chunk)
            destination.Write(source.Region.Slice(info.FileOffset + offset, (int)Math.Min(Chunk, info.ByteSize - offset)));
    }

    /// <summary>
    /// Converts one tensor slab by slab: each slab's rows are read back to float and quantized in parallel into one
    /// buffer, which is then written. Row r of a 3-D tensor uses the importance of expert r / rowsPerMatrix.
    /// </summary>
    private static void Convert(GgufFile source, GgufTensorInfo info, TensorPlan plan, float[]? importance, int threads,
        Stream destination, Action<long> report)
    {
        int rowLength = checked((int)plan.Dimensions[0]);
        long rows = plan.ElementCount / rowLength;
        long rowsPerMatrix = plan.Dimensions.Length > 1 ? plan.Dimensions[1] : 1;
        int inBytes = checked((int)GgmlTypeInfo.RowBytes(plan.SourceType, rowLength));
        int outBytes = checked((int)GgmlTypeInfo.RowBytes(plan.TargetType, rowLength));
        long slabRows = Math.Max(1, SlabElements / rowLength);
        int chunkRows = Math.Max(1, (MinChunkElements + rowLength - 1) / rowLength);
        var buffer = new byte[checked((int)(Math.Min(slabRows, rows) * outBytes))];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) };
        for (long first = 0; first < rows; first += slabRows)
        {
            long count = Math.Min(slabRows, rows - first);
            int chunks = (int)((count + chunkRows - 1) / chunkRows);
            Parallel.For(0, chunks, parallel, () => new float[rowLength], (c, _, row) =>
            {
                long start = first + (long)c * chunkRows, end = Math.Min(first + count, start + chunkRows);
                for (long r = start; r < end; r++)
                {
                    var input = source.Region.Slice(info.FileOffset + r * inBytes, inBytes);
                    Dequantize.Row(plan.SourceType, input, row);
                    var weights = importance is null ? default : importance.AsSpan((int)(r / rowsPerMatrix) * rowLength, rowLength);
                    ImportanceQuantize.Row(plan.TargetType, row, buffer.AsSpan((int)((r - first) * outBytes), outBytes), weights);
                }
                report((end - start) * rowLength);
                return row;
            }, _ => { });
            destination.Write(buffer, 0, (int)(count * outBytes));
        }
    }
}
