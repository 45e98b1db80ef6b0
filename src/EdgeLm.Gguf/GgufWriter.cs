using System.Text;
using EdgeLm.Numerics.Memory;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Gguf;

/// <summary>
/// Builds a GGUF file: collects metadata (insertion order kept; setting an existing key replaces it in place) and
/// tensors, then writes them in the layout llama.cpp writes: header, metadata, tensor infos, zero padding to the
/// alignment, then each tensor's data padded to the alignment, in the order the tensors were added. A file without
/// tensors ends right after its tensor infos, unpadded. Everything is validated when added, so <see cref="Write"/>
/// only fails on I/O or a misbehaving data source.
/// </summary>
public sealed class GgufWriter
{
    private readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    private readonly Dictionary<string, int> _metadataIndex = new(StringComparer.Ordinal);
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    private sealed record PendingTensor(string Name, byte[] NameUtf8, GgmlType Type, long[] Dimensions, long ByteSize, ReadOnlyMemory<byte>? Data, Action<Stream>? WriteData);

    /// <summary>Creates an empty writer for GGUF <paramref name="version"/> (2 or 3; the layouts are identical).</summary>
    public GgufWriter(uint version = 3)
    {
        if (version is not (2 or 3))
            throw new ArgumentOutOfRangeException(nameof(version), version, "Only GGUF versions 2 and 3 can be written.");
        Version = version;
    }

    /// <summary>The GGUF version written in the header.</summary>
    public uint Version { get; }

    /// <summary>Alignment of tensor data: <c>general.alignment</c> if set, else 32.</summary>
    public int Alignment => _metadataIndex.TryGetValue(GgufKeys.GeneralAlignment, out int i)
        ? (int)_metadata[i].Value.AsUInt32()
        : GgufParser.DefaultAlignment;

    /// <summary>Metadata in the order it will be written.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata.AsReadOnly();

    /// <summary>Number of tensors added.</summary>
    public int TensorCount => _tensors.Count;

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/>: replaces it in place if present, else appends it.
    /// <c>general.alignment</c> must be a UInt32 power of two.
    /// </summary>
    public void SetMetadata(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key.Length == 0)
            throw new ArgumentException("A metadata key cannot be empty.", nameof(key));
        if (Encoding.UTF8.GetByteCount(key) > GgufParser.MaxKeyBytes)
            throw new ArgumentException($"Metadata key '{key[..40]}...' is longer than {GgufParser.MaxKeyBytes} bytes.", nameof(key));
        if (key == GgufKeys.GeneralAlignment)
            CheckAlignment(value);
        if (GgufSerializer.ArrayDepth(value) > GgufParser.MaxArrayDepth)
            throw new ArgumentException($"Metadata '{key}': arrays nest more than {GgufParser.MaxArrayDepth} deep, which readers refuse.", nameof(value));

        var entry = new KeyValuePair<string, GgufValue>(key, value.WithKey(key));
        if (_metadataIndex.TryGetValue(key, out int i))
            _metadata[i] = entry;
        else
        {
            _metadataIndex.Add(key, _metadata.Count);
            _metadata.Add(entry);
        }
    }

    /// <summary>Removes <paramref name="key"/>; false if it was not set.</summary>
    public bool RemoveMetadata(string key)
    {
        if (!_metadataIndex.Remove(key, out int i))
            return false;
        _metadata.RemoveAt(i);
        for (int j = i; j < _metadata.Count; j++)
            _metadataIndex[_metadata[j].Key] = j;
        return true;
    }

    /// <summary>Sets the tensor data alignment, stored as the UInt32 key <c>general.alignment</c>.</summary>
    public void SetAlignment(int alignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0 || alignment > GgufParser.MaxAlignment)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, $"Alignment must be a power of two between 1 and {GgufParser.MaxAlignment}.");
        SetMetadata(GgufKeys.GeneralAlignment, GgufValue.From((uint)alignment));
    }

    /// <summary>
    /// Adds a tensor whose bytes are in memory. <paramref name="dimensions"/> are in ggml order ([0] is the row
    /// length); <paramref name="data"/> must hold exactly the tensor's size and must not change before
    /// <see cref="Write"/>.
    /// </summary>
    public void AddTensor(string name, GgmlType type, long[] dimensions, ReadOnlyMemory<byte> data)
    {
        long size = CheckTensor(name, type, dimensions, out var nameUtf8);
        if (data.Length != size)
            throw new ArgumentException($"Tensor '{name}': {type} [{string.Join(", ", dimensions)}] takes {size} bytes, but {data.Length} were given.", nameof(data));
        Add(new PendingTensor(name, nameUtf8, type, (long[])dimensions.Clone(), size, data, null));
    }

    /// <summary>
    /// Adds a tensor whose bytes come from <paramref name="writeData"/> when the file is written (e.g. a copy
    /// from a mapped file). The callback must write exactly <paramref name="byteSize"/> bytes, which must be the
    /// tensor's size.
    /// </summary>
    public void AddTensor(string name, GgmlType type, long[] dimensions, long byteSize, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        long size = CheckTensor(name, type, dimensions, out var nameUtf8);
        if (byteSize != size)
            throw new ArgumentException($"Tensor '{name}': {type} [{string.Join(", ", dimensions)}] takes {size} bytes, not {byteSize}.", nameof(byteSize));
        Add(new PendingTensor(name, nameUtf8, type, (long[])dimensions.Clone(), size, null, writeData));
    }

    /// <summary>
    /// A writer holding <paramref name="source"/>'s version, metadata and tensors; tensor data is copied from the
    /// source's mapping during <see cref="Write"/>, so keep the source open until then. Writing it unchanged
    /// reproduces a file laid out as llama.cpp lays files out byte for byte.
    /// </summary>
    public static GgufWriter From(GgufFile source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var writer = new GgufWriter(source.Version);
        foreach (var (key, value) in source.MetadataInOrder)
            writer.SetMetadata(key, value);
        foreach (var t in source.Tensors)
        {
            var region = source.Region;
            long offset = t.FileOffset, size = t.ByteSize;
            writer.AddTensor(t.Name, t.Type, t.Dimensions, size, s => CopyRegion(region, offset, size, s));
        }
        return writer;
    }

    /// <summary>
    /// Writes the file to <paramref name="path"/> atomically: to a temporary file in the same folder, flushed to
    /// disk, then renamed over <paramref name="path"/>. On any failure the temporary file is deleted and an existing
    /// file at <paramref name="path"/> is left as it was.
    /// </summary>
    public void Write(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' has no folder.", nameof(path));
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                WriteTo(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Writes the whole file to <paramref name="stream"/> (which need not be seekable), leaving it open.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        int alignment = Alignment;
        var counter = new CountingStream(stream);
        using var w = new BinaryWriter(counter, Encoding.UTF8, leaveOpen: true);

        w.Write("GGUF"u8);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            GgufSerializer.WriteString(w, Encoding.UTF8.GetBytes(key));
            GgufSerializer.WriteTypedValue(w, value);
        }

        long offset = 0;
        foreach (var t in _tensors)
        {
            GgufSerializer.WriteString(w, t.NameUtf8);
            w.Write((uint)t.Dimensions.Length);
            foreach (long d in t.Dimensions)
                w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset += AlignUp(t.ByteSize, alignment);
        }
        if (_tensors.Count == 0)
        {
            w.Flush();
            return;
        }
        Pad(w, counter, alignment);

        foreach (var t in _tensors)
        {
            if (t.Data is { } data)
                w.Write(data.Span);
            else
            {
                w.Flush();
                var sink = new TensorDataStream(counter, t.Name, t.ByteSize);
                t.WriteData!(sink);
                if (sink.Written != t.ByteSize)
                    throw new InvalidOperationException($"Tensor '{t.Name}': the data source wrote {sink.Written} bytes, expected {t.ByteSize}.");
            }
            Pad(w, counter, alignment);
        }
        w.Flush();
    }

    private void Add(PendingTensor t)
    {
        _tensors.Add(t);
        _tensorNames.Add(t.Name);
    }

    private long CheckTensor(string name, GgmlType type, long[] dimensions, out byte[] nameUtf8)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(dimensions);
        nameUtf8 = Encoding.UTF8.GetBytes(name);
        if (nameUtf8.Length is 0 or > GgufParser.MaxTensorNameBytes)
            throw new ArgumentException($"Tensor name '{name}' must be 1 to {GgufParser.MaxTensorNameBytes} bytes of UTF-8.", nameof(name));
        if (_tensorNames.Contains(name))
            throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        if (!GgmlTypeInfo.TryGeometry(type, out int blockSize, out int blockBytes))
            throw new ArgumentOutOfRangeException(nameof(type), type, $"Tensor '{name}': ggml defines no tensor type {(uint)type}.");
        if (dimensions.Length is < 1 or > GgufParser.MaxRank)
            throw new ArgumentException($"Tensor '{name}': rank {dimensions.Length}, must be 1 to {GgufParser.MaxRank}.", nameof(dimensions));
        long elements = 1;
        foreach (long d in dimensions)
        {
            if (d <= 0)
                throw new ArgumentException($"Tensor '{name}': dimension {d} must be positive.", nameof(dimensions));
            if (elements > long.MaxValue / d)
                throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", dimensions)}] overflows a 64-bit element count.", nameof(dimensions));
            elements *= d;
        }
        if (dimensions[0] % blockSize != 0)
            throw new ArgumentException($"Tensor '{name}': row length {dimensions[0]} is not a multiple of the {type} block size {blockSize}.", nameof(dimensions));
        long blocks = elements / blockSize;
        if (blocks > long.MaxValue / blockBytes)
            throw new ArgumentException($"Tensor '{name}': byte size overflows a 64-bit integer.", nameof(dimensions));
        return blocks * blockBytes;
    }

    private static void CheckAlignment(GgufValue value)
    {
        if (value.Type != GgufValueType.UInt32)
            throw new ArgumentException($"'{GgufKeys.GeneralAlignment}' must be UInt32, not {value.Type}.", nameof(value));
        uint a = value.AsUInt32();
        if (a == 0 || (a & (a - 1)) != 0 || a > GgufParser.MaxAlignment)
            throw new ArgumentException($"'{GgufKeys.GeneralAlignment}' = {a} is not a power of two between 1 and {GgufParser.MaxAlignment}.", nameof(value));
    }

    private static void Pad(BinaryWriter w, CountingStream counter, int alignment)
    {
        w.Flush();
        long pad = AlignUp(counter.Written, alignment) - counter.Written;
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        while (pad > 0)
        {
            int n = (int)Math.Min(pad, zeros.Length);
            w.Write(zeros[..n]);
            pad -= n;
        }
    }

    private static long AlignUp(long offset, int alignment) => (offset + alignment - 1) / alignment * alignment;

    private static void CopyRegion(MappedRegion region, long offset, long size, Stream destination)
    {
        const int Chunk = 1 << 20;
        while (size > 0)
        {
            int n = (int)Math.Min(size, Chunk);
            destination.Write(region.Slice(offset, n));
            offset += n;
            size -= n;
        }
    }
}
