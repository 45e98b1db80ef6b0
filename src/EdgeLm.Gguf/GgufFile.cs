using System.Collections.ObjectModel;
using EdgeLm.Numerics.Memory;

namespace EdgeLm.Gguf;

/// <summary>
/// An open, validated GGUF file (versions 2 and 3, little-endian). The file is memory-mapped: metadata is parsed
/// into managed values once, tensor data is never copied and is read in place through <see cref="GetTensorBytes"/>
/// or <see cref="Region"/>. Dispose to unmap; spans handed out become invalid then. An open file is immutable and
/// safe to read from several threads at once.
/// </summary>
public sealed class GgufFile : IDisposable
{
    private readonly Dictionary<string, GgufValue> _metadataByKey;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;

    private GgufFile(string path, MappedRegion region, GgufParser.Result header)
    {
        FilePath = path;
        Region = region;
        Version = header.Version;
        Alignment = header.Alignment;
        DataOffset = header.DataOffset;
        _metadataByKey = header.MetadataByKey;
        _tensorsByName = header.TensorsByName;
        MetadataInOrder = new ReadOnlyCollection<KeyValuePair<string, GgufValue>>(header.Metadata);
        Metadata = new ReadOnlyDictionary<string, GgufValue>(_metadataByKey);
        Tensors = new ReadOnlyCollection<GgufTensorInfo>(header.Tensors);
    }

    /// <summary>
    /// Maps and validates <paramref name="path"/>. Every count, length and offset in the header is checked against
    /// the file before it is used.
    /// </summary>
    /// <exception cref="GgufFormatException">The file is not a valid GGUF v2/v3 file; the message starts with the path.</exception>
    public static GgufFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var region = MappedRegion.Open(path);
        try
        {
            var header = GgufParser.Parse(region);
            return new GgufFile(path, region, header);
        }
        catch (GgufFormatException e)
        {
            region.Dispose();
            throw new GgufFormatException($"{path}: {e.Message}", e.Field, e.Offset, e);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    /// <summary>The path the file was opened from.</summary>
    public string FilePath { get; }

    /// <summary>The whole file, mapped read-only. Tensor data sits at each tensor's <see cref="GgufTensorInfo.FileOffset"/>.</summary>
    public MappedRegion Region { get; }

    /// <summary>GGUF format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Alignment of tensor data: <c>general.alignment</c>, or 32 when absent.</summary>
    public int Alignment { get; }

    /// <summary>
    /// Absolute offset of the tensor data section: the end of the tensor infos rounded up to <see cref="Alignment"/>
    /// (just the end of the header when the file holds no tensors).
    /// </summary>
    public long DataOffset { get; }

    /// <summary>File length in bytes.</summary>
    public long Length => Region.Length;

    /// <summary>Metadata in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> MetadataInOrder { get; }

    /// <summary>Metadata by key.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    /// <summary>Tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Looks up a metadata value.</summary>
    public bool TryGetValue(string key, out GgufValue value) => _metadataByKey.TryGetValue(key, out value!);

    /// <summary>The value at <paramref name="key"/>.</summary>
    /// <exception cref="GgufFormatException">The key is missing.</exception>
    public GgufValue GetValue(string key) =>
        _metadataByKey.TryGetValue(key, out var v) ? v : throw Missing(key);

    /// <summary>The string at <paramref name="key"/>, or null when absent.</summary>
    /// <exception cref="GgufFormatException">Present but not a string.</exception>
    public string? GetStringOrNull(string key) => _metadataByKey.TryGetValue(key, out var v) ? v.AsString() : null;

    /// <summary>The string at <paramref name="key"/>.</summary>
    /// <exception cref="GgufFormatException">Missing, or not a string.</exception>
    public string GetString(string key) => GetValue(key).AsString();

    /// <summary>The integer at <paramref name="key"/>, whatever its integer type.</summary>
    /// <exception cref="GgufFormatException">Missing, not an integer, or a UInt64 beyond long.</exception>
    public long GetInteger(string key) => GetValue(key).ToInt64();

    /// <summary>The integer at <paramref name="key"/>, or null when absent.</summary>
    /// <exception cref="GgufFormatException">Present but not an integer.</exception>
    public long? GetIntegerOrNull(string key) => _metadataByKey.TryGetValue(key, out var v) ? v.ToInt64() : null;

    /// <summary>The number at <paramref name="key"/>, whatever its numeric type.</summary>
    /// <exception cref="GgufFormatException">Missing, or not a number.</exception>
    public double GetNumber(string key) => GetValue(key).ToDouble();

    /// <summary>The number at <paramref name="key"/>, or null when absent.</summary>
    /// <exception cref="GgufFormatException">Present but not a number.</exception>
    public double? GetNumberOrNull(string key) => _metadataByKey.TryGetValue(key, out var v) ? v.ToDouble() : null;

    /// <summary>The bool at <paramref name="key"/>, or <paramref name="defaultValue"/> when absent.</summary>
    /// <exception cref="GgufFormatException">Present but not a Bool.</exception>
    public bool GetBoolOrDefault(string key, bool defaultValue) =>
        _metadataByKey.TryGetValue(key, out var v) ? v.AsBool() : defaultValue;

    /// <summary>The array at <paramref name="key"/>, or null when absent.</summary>
    /// <exception cref="GgufFormatException">Present but not an array.</exception>
    public GgufArray? GetArrayOrNull(string key) => _metadataByKey.TryGetValue(key, out var v) ? v.AsArray() : null;

    /// <summary>The array at <paramref name="key"/>.</summary>
    /// <exception cref="GgufFormatException">Missing, or not an array.</exception>
    public GgufArray GetArray(string key) => GetValue(key).AsArray();

    /// <summary>The tensor called <paramref name="name"/>, or null.</summary>
    public GgufTensorInfo? FindTensor(string name) => _tensorsByName.GetValueOrDefault(name);

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="GgufFormatException">No such tensor.</exception>
    public GgufTensorInfo GetTensor(string name) =>
        FindTensor(name) ?? throw new GgufFormatException($"{FilePath}: missing tensor '{name}'", $"tensor '{name}'");

    /// <summary>
    /// The tensor's bytes, in place in the mapping (valid until this file is disposed). Tensors over 2 GiB do not
    /// fit a span; read those through <see cref="Region"/> at <see cref="GgufTensorInfo.FileOffset"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor info belongs to another file.</exception>
    /// <exception cref="NotSupportedException">The tensor is larger than a span can address.</exception>
    public ReadOnlySpan<byte> GetTensorBytes(GgufTensorInfo t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (!ReferenceEquals(FindTensor(t.Name), t))
            throw new ArgumentException($"Tensor '{t.Name}' does not belong to {FilePath}.", nameof(t));
        if (t.ByteSize > int.MaxValue)
            throw new NotSupportedException($"Tensor '{t.Name}' holds {t.ByteSize} bytes, more than a span addresses; use Region.Pointer({t.FileOffset}).");
        return Region.Slice(t.FileOffset, (int)t.ByteSize);
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose() => Region.Dispose();

    private GgufFormatException Missing(string key) => new($"{FilePath}: missing key '{key}'", key);
}
