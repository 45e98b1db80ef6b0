using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Compression.Importance;

/// <summary>The two on-disk layouts of llama.cpp's importance matrix.</summary>
public enum ImportanceMatrixFormat
{
    /// <summary>
    /// The GGUF-based format llama-imatrix writes by default since mid-2025: <c>general.type = "imatrix"</c>,
    /// <c>imatrix.datasets</c>, <c>imatrix.chunk_count</c>, <c>imatrix.chunk_size</c>, and per weight two F32 tensors,
    /// <c>NAME.in_sum2</c> [columns, matrices] and <c>NAME.counts</c> [1, matrices].
    /// </summary>
    Gguf,

    /// <summary>
    /// The legacy binary <c>.dat</c> format (little-endian): int32 entry count; per entry int32 name length, the name,
    /// int32 ncall, int32 value count, that many float32 values (mean of x^2 times ncall); then int32 chunk count,
    /// int32 dataset-name length and the dataset name.
    /// </summary>
    Legacy,
}

/// <summary>Thrown when an importance matrix file is malformed; the message names the file and the problem.</summary>
public sealed class ImportanceMatrixFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Reads and writes importance matrices in both of llama.cpp's formats.</summary>
public static class ImportanceMatrixFile
{
    /// <summary>llama.cpp's metadata keys.</summary>
    public const string DatasetsKey = "imatrix.datasets", ChunkCountKey = "imatrix.chunk_count", ChunkSizeKey = "imatrix.chunk_size";

    private const string SumsSuffix = ".in_sum2", CountsSuffix = ".counts";

    // Sanity limits for the legacy format, whose fields are otherwise unchecked counts.
    private const int MaxNameBytes = 4096;

    /// <summary>The format a file name asks for: <c>.dat</c> means legacy, anything else GGUF (llama-imatrix's rule of thumb).</summary>
    public static ImportanceMatrixFormat FormatForPath(string path) =>
        string.Equals(Path.GetExtension(path), ".dat", StringComparison.OrdinalIgnoreCase) ? ImportanceMatrixFormat.Legacy : ImportanceMatrixFormat.Gguf;

    /// <summary>Reads <paramref name="path"/> in whichever format it is (GGUF when it starts with the GGUF magic).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="ImportanceMatrixFormatException">The file is not a valid importance matrix.</exception>
    public static ImportanceMatrix Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No importance matrix at {path}.", path);
        Span<byte> magic = stackalloc byte[4];
        int got;
        using (var f = File.OpenRead(path))
            got = f.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        return got == 4 && magic.SequenceEqual("GGUF"u8) ? ReadGguf(path) : ReadLegacy(path);
    }

    /// <summary>Writes <paramref name="matrix"/> to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Write(ImportanceMatrix matrix, string path, ImportanceMatrixFormat format)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(path);
        if (format == ImportanceMatrixFormat.Gguf)
            ToGguf(matrix).Write(path);
        else
            WriteAtomically(path, bytes => bytes.Write(ToLegacy(matrix)));
    }

    /// <summary>The GGUF layout llama-imatrix writes: metadata, then for each weight (by name) its sums and counts.</summary>
    public static GgufWriter ToGguf(ImportanceMatrix matrix)
    {
        var w = new GgufWriter();
        w.SetMetadata(GgufKeys.GeneralType, GgufValue.From("imatrix"));
        w.SetMetadata(DatasetsKey, GgufValue.FromStrings(matrix.Datasets));
        w.SetMetadata(ChunkCountKey, GgufValue.From((uint)matrix.ChunkCount));
        w.SetMetadata(ChunkSizeKey, GgufValue.From((uint)matrix.ChunkSize));
        foreach (var e in matrix.Entries)
        {
            w.AddTensor(e.Name + SumsSuffix, GgmlType.F32, [e.ColumnCount, e.MatrixCount], MemoryMarshal.AsBytes(e.SumOfSquares.AsSpan()).ToArray());
            w.AddTensor(e.Name + CountsSuffix, GgmlType.F32, [1, e.MatrixCount], MemoryMarshal.AsBytes(e.Counts.AsSpan()).ToArray());
        }
        return w;
    }

    /// <summary>
    /// The legacy bytes: ncall is the chunks a matrix's largest count spans (rounded up), values are mean squares
    /// times ncall, and a matrix that saw nothing stores 1s, as llama-imatrix does.
    /// </summary>
    public static byte[] ToLegacy(ImportanceMatrix matrix)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true);
        var entries = matrix.Entries;
        int chunkSize = Math.Max(1, matrix.ChunkSize);
        w.Write(entries.Count);
        foreach (var e in entries)
        {
            var name = Encoding.UTF8.GetBytes(e.Name);
            w.Write(name.Length);
            w.Write(name);
            int ncall = (int)((e.Counts.Max() + (chunkSize - 1)) / chunkSize);
            w.Write(ncall);
            w.Write(e.SumOfSquares.Length);
            int columns = e.ColumnCount;
            for (int i = 0; i < e.SumOfSquares.Length; i++)
            {
                float count = e.Counts[i / columns];
                float value = e.SumOfSquares[i];
                if (count == 0)
                    (value, count) = (1, 1);
                w.Write(value / count * ncall);
            }
        }
        w.Write(matrix.ChunkCount);
        var dataset = Encoding.UTF8.GetBytes(matrix.Datasets.Count > 0 ? matrix.Datasets[^1] : "");
        w.Write(dataset.Length);
        w.Write(dataset);
        w.Flush();
        return ms.ToArray();
    }

    private static ImportanceMatrix ReadGguf(string path)
    {
        GgufFile file;
        try
        {
            file = GgufFile.Open(path);
        }
        catch (GgufFormatException e)
        {
            throw new ImportanceMatrixFormatException($"{path} is not a readable importance matrix: {e.Message}", e);
        }
        using (file)
        {
            if (!file.TryGetValue(ChunkCountKey, out var chunkCount) || !file.TryGetValue(ChunkSizeKey, out var chunkSize)
                || !file.TryGetValue(DatasetsKey, out var datasets))
                throw new ImportanceMatrixFormatException($"{path}: missing importance matrix metadata ({DatasetsKey}, {ChunkCountKey}, {ChunkSizeKey}); is it a model rather than an imatrix?");
            var sums = new SortedDictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
            var counts = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
            foreach (var t in file.Tensors)
            {
                if (t.Name.EndsWith(SumsSuffix, StringComparison.Ordinal))
                    sums[t.Name[..^SumsSuffix.Length]] = t;
                else if (t.Name.EndsWith(CountsSuffix, StringComparison.Ordinal))
                    counts[t.Name[..^CountsSuffix.Length]] = t;
            }
            if (sums.Count == 0)
                throw new ImportanceMatrixFormatException($"{path}: no '{SumsSuffix}' tensors; the importance matrix is empty.");
            var entries = new List<ImportanceEntry>(sums.Count);
            foreach (var (name, s) in sums)
            {
                if (!counts.TryGetValue(name, out var c))
                    throw new ImportanceMatrixFormatException($"{path}: '{name}' has sums but no counts.");
                if (s.Type != GgmlType.F32 || c.Type != GgmlType.F32)
                    throw new ImportanceMatrixFormatException($"{path}: '{name}' sums and counts must be F32, are {s.Type} and {c.Type}.");
                long matrices = s.RowCount;
                if (c.ElementCount != matrices)
                    throw new ImportanceMatrixFormatException($"{path}: '{name}' has {matrices} matrices of sums but {c.ElementCount} counts.");
                var sumValues = MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(s)).ToArray();
                var countValues = MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(c)).ToArray();
                CheckValues(path, name, sumValues, countValues);
                entries.Add(new ImportanceEntry(name, sumValues, countValues));
            }
            foreach (var name in counts.Keys)
            {
                if (!sums.ContainsKey(name))
                    throw new ImportanceMatrixFormatException($"{path}: '{name}' has counts but no sums.");
            }
            string[] names;
            try
            {
                names = datasets.AsArray().AsStrings();
                return new ImportanceMatrix(entries, names, (int)Math.Min(int.MaxValue, chunkCount.ToInt64()), (int)Math.Min(int.MaxValue, chunkSize.ToInt64()));
            }
            catch (GgufFormatException e)
            {
                throw new ImportanceMatrixFormatException($"{path}: bad importance matrix metadata: {e.Message}", e);
            }
        }
    }

    private static ImportanceMatrix ReadLegacy(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var reader = new LegacyReader(bytes, path);
        int n = reader.Int32("entry count");
        // Every entry takes at least 16 bytes, so the count is bounded by the file size before it is trusted.
        if (n < 1 || n > bytes.Length / 16)
            throw new ImportanceMatrixFormatException($"{path}: entry count {n} is impossible for a {bytes.Length}-byte legacy importance matrix (or the file is not one).");
        var entries = new List<ImportanceEntry>(n);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            int length = reader.Int32($"name length of entry {i}");
            if (length < 1 || length > MaxNameBytes)
                throw new ImportanceMatrixFormatException($"{path}: entry {i} has a name of {length} bytes.");
            string name = reader.Utf8(length, $"name of entry {i}");
            int ncall = reader.Int32($"call count of '{name}'");
            int count = reader.Int32($"value count of '{name}'");
            if (count < 1 || (long)count * 4 > reader.Remaining)
                throw new ImportanceMatrixFormatException($"{path}: '{name}' claims {count} values, but {reader.Remaining} bytes remain.");
            var values = reader.Floats(count);
            // Legacy values are mean squares times ncall: with count = ncall, sums / counts gives the mean back.
            var counts = new[] { ncall > 0 ? (float)ncall : 1f };
            CheckValues(path, name, values, counts);
            if (!seen.Add(name))
                throw new ImportanceMatrixFormatException($"{path}: '{name}' appears twice.");
            entries.Add(new ImportanceEntry(name, values, counts));
        }
        int chunks = 0;
        var datasets = new List<string>();
        if (reader.Remaining > 0)
        {
            chunks = reader.Int32("chunk count");
            int length = reader.Int32("dataset name length");
            if (length < 0 || length > reader.Remaining)
                throw new ImportanceMatrixFormatException($"{path}: dataset name of {length} bytes, but {reader.Remaining} remain.");
            datasets.Add(reader.Utf8(length, "dataset name"));
        }
        if (reader.Remaining != 0)
            throw new ImportanceMatrixFormatException($"{path}: {reader.Remaining} unexpected bytes after the importance matrix.");
        return new ImportanceMatrix(entries, datasets, chunks, 0);
    }

    private static void CheckValues(string path, string name, float[] sums, float[] counts)
    {
        foreach (float v in sums)
        {
            if (!float.IsFinite(v) || v < 0)
                throw new ImportanceMatrixFormatException($"{path}: '{name}' holds {v}, but sums of squares are finite and non-negative.");
        }
        foreach (float c in counts)
        {
            if (!float.IsFinite(c) || c < 0)
                throw new ImportanceMatrixFormatException($"{path}: '{name}' has a count of {c}.");
        }
    }

    private static void WriteAtomically(string path, Action<FileStream> write)
    {
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(f);
                f.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Bounds-checked little-endian reads over the legacy file's bytes.</summary>
    private sealed class LegacyReader(byte[] bytes, string path)
    {
        private int _offset;

        public long Remaining => bytes.Length - _offset;

        public int Int32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));

        public string Utf8(int length, string what) => Encoding.UTF8.GetString(Take(length, what));

        public float[] Floats(int count)
        {
            var span = Take(checked(count * 4), "values");
            var values = new float[count];
            for (int i = 0; i < count; i++)
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(span.Slice(4 * i, 4));
            return values;
        }

        private ReadOnlySpan<byte> Take(int n, string what)
        {
            if (n > Remaining)
                throw new ImportanceMatrixFormatException($"{path}: the file ends in the middle of the {what} (offset {_offset}).");
            var span = bytes.AsSpan(_offset, n);
            _offset += n;
            return span;
        }
    }
}
