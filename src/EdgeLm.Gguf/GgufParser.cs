using System.Buffers.Binary;
using System.Text;
using EdgeLm.Numerics.Memory;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Gguf;

/// <summary>
/// Reads and validates the header of a mapped GGUF file (magic, version, metadata, tensor infos) without trusting
/// any count, length or offset before checking it against the bytes that remain. Every failure is a
/// <see cref="GgufFormatException"/> naming the field and the offending value; nothing is allocated in proportion to
/// a claimed size until the file is known to hold at least that many bytes, so a lying header cannot exhaust memory
/// and every loop is bounded by the file length.
/// </summary>
/// <remarks>
/// Layout (all little-endian): "GGUF" | u32 version | u64 tensor_count | u64 kv_count | kv* | tensor_info* |
/// zero padding to the alignment (only when there are tensors) | tensor data. A kv is string key | u32 type | value;
/// a string is u64 length | bytes; an array is u32 element type | u64 count | elements. A tensor info is string name |
/// u32 rank | u64 dims[rank] | u32 ggml type | u64 offset relative to the data section.
/// </remarks>
internal sealed class GgufParser
{
    /// <summary>Deepest nesting of arrays accepted (an array directly under a key is depth 1).</summary>
    public const int MaxArrayDepth = 8;
    /// <summary>llama.cpp keeps tensor names in a 64-byte buffer with a terminator, so 63 bytes is the longest it loads.</summary>
    public const int MaxTensorNameBytes = 63;
    /// <summary>The specification's bound on key length.</summary>
    public const int MaxKeyBytes = 65535;
    /// <summary>ggml tensors have at most four dimensions.</summary>
    public const int MaxRank = 4;
    /// <summary>Alignment when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;
    /// <summary>Largest alignment accepted (a power of two that still fits an int).</summary>
    public const int MaxAlignment = 1 << 30;

    // Fewest bytes a metadata entry can take: key length, a 1-byte key, type tag, a 1-byte value.
    private const int MinKvBytes = 8 + 1 + 4 + 1;
    // Fewest bytes a tensor info can take: name length, a 1-byte name, rank, one dimension, type, offset.
    private const int MinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;
    private static readonly byte[] Magic = "GGUF"u8.ToArray();

    private readonly MappedRegion _region;
    private readonly long _length;
    private long _pos;

    private GgufParser(MappedRegion region)
    {
        _region = region;
        _length = region.Length;
    }

    /// <summary>Everything the header says, validated.</summary>
    public sealed record Result(
        uint Version,
        int Alignment,
        long DataOffset,
        List<KeyValuePair<string, GgufValue>> Metadata,
        Dictionary<string, GgufValue> MetadataByKey,
        List<GgufTensorInfo> Tensors,
        Dictionary<string, GgufTensorInfo> TensorsByName);

    /// <summary>Parses and validates the whole header of <paramref name="region"/>.</summary>
    public static Result Parse(MappedRegion region) => new GgufParser(region).Parse();

    private long Remaining => _length - _pos;

    private Result Parse()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("The GGUF reader needs a little-endian machine.");

        Need(4, "the GGUF magic", "magic");
        var magic = _region.Slice(0, 4);
        if (!magic.SequenceEqual(Magic))
            throw Fail($"not a GGUF file: magic is {Convert.ToHexString(magic)} ('{Printable(magic)}'), expected 47475546 ('GGUF')", "magic", 0);
        _pos = 4;

        uint version = ReadU32("version", "version");
        if ((version & 0xFFFF) == 0 && version != 0)
            throw Fail($"version field reads 0x{version:X8}: this looks like a big-endian GGUF file, which is not supported (only little-endian)", "version", 4);
        if (version == 1)
            throw Fail("GGUF version 1 is not supported (only versions 2 and 3 are)", "version", 4);
        if (version is not (2 or 3))
            throw Fail($"GGUF version {version} is not supported (only versions 2 and 3 are)", "version", 4);

        ulong tensorCount = ReadU64("tensor count", "tensor_count");
        ulong kvCount = ReadU64("metadata count", "metadata_kv_count");
        long left = Remaining;
        if (tensorCount > (ulong)(left / MinTensorInfoBytes))
            throw Fail($"header claims {tensorCount} tensors, but the {left} bytes after the header hold at most {left / MinTensorInfoBytes} tensor infos", "tensor_count", 8);
        if (kvCount > (ulong)(left / MinKvBytes))
            throw Fail($"header claims {kvCount} metadata entries, but the {left} bytes after the header hold at most {left / MinKvBytes}", "metadata_kv_count", 16);
        if (tensorCount * MinTensorInfoBytes + kvCount * MinKvBytes > (ulong)left)
            throw Fail($"header claims {kvCount} metadata entries and {tensorCount} tensors, more than the {left} bytes after the header can hold", "metadata_kv_count", 16);

        var metadata = new List<KeyValuePair<string, GgufValue>>((int)kvCount);
        var byKey = new Dictionary<string, GgufValue>((int)kvCount, StringComparer.Ordinal);
        long alignmentOffset = -1;
        for (int i = 0; i < (int)kvCount; i++)
        {
            long keyOffset = _pos;
            string key = Encoding.UTF8.GetString(ReadString($"metadata key #{i}", $"metadata #{i}", MaxKeyBytes));
            if (key.Length == 0)
                throw Fail($"metadata key #{i} is empty", $"metadata #{i}", keyOffset);
            if (byKey.ContainsKey(key))
                throw Fail($"duplicate metadata key '{key}' (entry #{i})", key, keyOffset);
            long typeOffset = _pos;
            if (key == GgufKeys.GeneralAlignment)
                alignmentOffset = keyOffset;
            uint type = ReadU32($"type of metadata '{key}'", key);
            var value = ReadValue((GgufValueType)type, key, 0, typeOffset);
            metadata.Add(new(key, value));
            byKey.Add(key, value);
        }

        int alignment = ReadAlignment(byKey, alignmentOffset);

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        var byName = new Dictionary<string, GgufTensorInfo>((int)tensorCount, StringComparer.Ordinal);
        var placements = new List<(long Offset, long Size, long InfoOffset)>((int)tensorCount);
        for (int i = 0; i < (int)tensorCount; i++)
        {
            var (info, infoOffset) = ReadTensorInfo(i, byName);
            tensors.Add(info);
            byName.Add(info.Name, info);
            placements.Add((info.Offset, info.ByteSize, infoOffset));
        }

        long headerEnd = _pos;
        long dataOffset = headerEnd;
        if (tensorCount > 0)
        {
            dataOffset = AlignUp(headerEnd, alignment);
            if (dataOffset > _length)
                throw Fail($"the data section would start at offset {dataOffset} (header end {headerEnd} aligned to {alignment}), past the end of the {_length}-byte file", "data section", headerEnd);
        }

        var placed = new List<GgufTensorInfo>(tensors.Count);
        for (int i = 0; i < tensors.Count; i++)
            placed.Add(Place(tensors[i], dataOffset, alignment, placements[i].InfoOffset));
        CheckNoOverlap(placed);
        foreach (var t in placed)
            byName[t.Name] = t;
        return new Result(version, alignment, dataOffset, metadata, byKey, placed, byName);
    }

    private int ReadAlignment(Dictionary<string, GgufValue> byKey, long entryOffset)
    {
        if (!byKey.TryGetValue(GgufKeys.GeneralAlignment, out var value))
            return DefaultAlignment;
        if (value.Type != GgufValueType.UInt32)
            throw Fail($"metadata '{GgufKeys.GeneralAlignment}' is {value.Type}, must be UInt32", GgufKeys.GeneralAlignment, entryOffset);
        uint a = value.AsUInt32();
        if (a == 0 || (a & (a - 1)) != 0 || a > MaxAlignment)
            throw Fail($"metadata '{GgufKeys.GeneralAlignment}' = {a} is not a power of two between 1 and {MaxAlignment}", GgufKeys.GeneralAlignment, entryOffset);
        return (int)a;
    }

    private (GgufTensorInfo Info, long InfoOffset) ReadTensorInfo(int index, Dictionary<string, GgufTensorInfo> seen)
    {
        long infoOffset = _pos;
        string field = $"tensor #{index}";
        byte[] nameBytes = ReadString($"name of tensor #{index}", field, MaxTensorNameBytes);
        string name = Encoding.UTF8.GetString(nameBytes);
        if (name.Length == 0)
            throw Fail($"tensor #{index} has an empty name", field, infoOffset);
        field = $"tensor '{name}'";
        if (seen.ContainsKey(name))
            throw Fail($"duplicate tensor name '{name}' (tensor #{index})", field, infoOffset);

        uint rank = ReadU32($"rank of tensor '{name}'", field);
        if (rank is < 1 or > MaxRank)
            throw Fail($"tensor '{name}': rank {rank}, must be 1 to {MaxRank}", field, _pos - 4);

        var dims = new long[rank];
        long elements = 1;
        for (int j = 0; j < dims.Length; j++)
        {
            ulong d = ReadU64($"dimension {j} of tensor '{name}'", field);
            if (d == 0 || d > long.MaxValue)
                throw Fail($"tensor '{name}': dimension {j} is {d}, must be between 1 and {long.MaxValue}", field, _pos - 8);
            dims[j] = (long)d;
            if (elements > long.MaxValue / dims[j])
                throw Fail($"tensor '{name}': element count of shape [{string.Join(", ", dims.Take(j + 1))}] overflows a 64-bit integer", field, _pos - 8);
            elements *= dims[j];
        }

        uint rawType = ReadU32($"type of tensor '{name}'", field);
        var type = (GgmlType)rawType;
        if (!GgmlTypeInfo.TryGeometry(type, out int blockSize, out int blockBytes))
            throw Fail($"tensor '{name}': unknown ggml tensor type {rawType}", field, _pos - 4);
        if (dims[0] % blockSize != 0)
            throw Fail($"tensor '{name}': row length {dims[0]} is not a multiple of the {type} block size {blockSize}", field, infoOffset);
        long blocks = elements / blockSize;
        if (blocks > long.MaxValue / blockBytes)
            throw Fail($"tensor '{name}': byte size of {elements} {type} elements overflows a 64-bit integer", field, infoOffset);

        ulong offset = ReadU64($"data offset of tensor '{name}'", field);
        if (offset > long.MaxValue)
            throw Fail($"tensor '{name}': data offset {offset} is beyond any file", field, _pos - 8);
        // FileOffset is filled in by Place once the data section's start is known.
        return (new GgufTensorInfo(name, type, dims, elements, blocks * blockBytes, (long)offset, -1), infoOffset);
    }

    private GgufTensorInfo Place(GgufTensorInfo t, long dataOffset, int alignment, long infoOffset)
    {
        string field = $"tensor '{t.Name}'";
        if (t.Offset % alignment != 0)
            throw Fail($"tensor '{t.Name}': data offset {t.Offset} is not a multiple of the alignment {alignment}", field, infoOffset);
        long dataLength = _length - dataOffset;
        if (t.Offset > dataLength || t.ByteSize > dataLength - t.Offset)
        {
            string start = t.Offset > long.MaxValue - dataOffset ? $"{dataOffset} + {t.Offset}" : (dataOffset + t.Offset).ToString();
            throw Fail($"tensor '{t.Name}': data [offset {start}, {t.ByteSize} bytes) runs past the end of the {_length}-byte file", field, infoOffset);
        }
        return new GgufTensorInfo(t.Name, t.Type, t.Dimensions, t.ElementCount, t.ByteSize, t.Offset, dataOffset + t.Offset);
    }

    private void CheckNoOverlap(List<GgufTensorInfo> tensors)
    {
        var sorted = tensors.OrderBy(t => t.Offset).ToList();
        for (int i = 1; i < sorted.Count; i++)
        {
            var a = sorted[i - 1];
            var b = sorted[i];
            if (b.Offset < a.Offset + a.ByteSize)
                throw Fail($"tensor '{b.Name}': data [offset {b.FileOffset}, {b.ByteSize} bytes) overlaps tensor '{a.Name}' [offset {a.FileOffset}, {a.ByteSize} bytes)", $"tensor '{b.Name}'", b.FileOffset);
        }
    }

    // ---- values ----

    private GgufValue ReadValue(GgufValueType type, string key, int depth, long typeOffset)
    {
        switch (type)
        {
            case GgufValueType.String:
                return GgufValue.StringFromFile(ReadString($"string value of metadata '{key}'", key, Array.MaxLength), key);
            case GgufValueType.Array:
                return GgufValue.ArrayFromFile(ReadArray(key, key, depth + 1), key);
            default:
                if (!GgufValueTypeInfo.IsKnown(type))
                    throw Fail($"metadata '{key}': unknown value type {(uint)type}", key, typeOffset);
                int size = GgufValueTypeInfo.FixedSize(type);
                Need(size, $"{type} value of metadata '{key}'", key);
                var bytes = _region.Slice(_pos, size);
                ulong bits = type switch
                {
                    GgufValueType.Int8 => unchecked((ulong)(sbyte)bytes[0]),
                    GgufValueType.Int16 => unchecked((ulong)BinaryPrimitives.ReadInt16LittleEndian(bytes)),
                    GgufValueType.Int32 => unchecked((ulong)BinaryPrimitives.ReadInt32LittleEndian(bytes)),
                    _ => size switch
                    {
                        1 => bytes[0],
                        2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
                        4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
                        _ => BinaryPrimitives.ReadUInt64LittleEndian(bytes),
                    },
                };
                if (type == GgufValueType.Bool && bits > 1)
                    throw Fail($"metadata '{key}': bool byte is {bits}, must be 0 or 1", key, _pos);
                _pos += size;
                return GgufValue.ScalarFromFile(type, bits, key);
        }
    }

    /// <summary>Reads element type, count and elements; <paramref name="where"/> names the array in messages (key or key[i]).</summary>
    private GgufArray ReadArray(string key, string where, int depth)
    {
        if (depth > MaxArrayDepth)
            throw Fail($"metadata '{where}': arrays nested more than {MaxArrayDepth} deep", key, _pos);
        long start = _pos;
        uint rawType = ReadU32($"element type of array '{where}'", key);
        var elementType = (GgufValueType)rawType;
        if (!GgufValueTypeInfo.IsKnown(elementType))
            throw Fail($"metadata '{where}': unknown array element type {rawType}", key, start);
        ulong count = ReadU64($"element count of array '{where}'", key);
        int minSize = GgufValueTypeInfo.MinimumSize(elementType);
        if (count > (ulong)(Remaining / minSize))
            throw Fail($"metadata '{where}': array of {count} {elementType} elements needs at least {(UInt128)count * (uint)minSize} bytes, but only {Remaining} remain in the file", key, start);
        if (count > (ulong)Array.MaxLength)
            throw Fail($"metadata '{where}': array of {count} elements is longer than .NET arrays allow ({Array.MaxLength})", key, start);
        int n = (int)count;

        switch (elementType)
        {
            case GgufValueType.String:
                return ReadStringArray(key, where, n);
            case GgufValueType.Array:
                var arrays = new GgufArray[n];
                for (int i = 0; i < n; i++)
                    arrays[i] = ReadArray(key, $"{where}[{i}]", depth + 1);
                return GgufArray.ArraysFromFile(arrays, key);
            default:
                var values = GgufArray.NewPrimitive(elementType, n);
                var dest = GgufArray.RawBytes(values);
                CopyTo(dest);
                if (elementType == GgufValueType.Bool)
                {
                    int bad = dest.IndexOfAnyExcept((byte)0, (byte)1);
                    if (bad >= 0)
                        throw Fail($"metadata '{where}[{bad}]': bool byte is {dest[bad]}, must be 0 or 1", key, _pos - dest.Length + bad);
                }
                return GgufArray.PrimitiveFromFile(elementType, values, key);
        }
    }

    private GgufArray ReadStringArray(string key, string where, int n)
    {
        // Pass 1 walks the length prefixes, checking each against the bytes left, to size one buffer for all.
        long p = _pos;
        long total = 0;
        for (int i = 0; i < n; i++)
        {
            if (_length - p < 8)
                throw Fail($"metadata '{where}[{i}]': string length at offset {p} runs past the end of the {_length}-byte file", key, p);
            ulong len = BinaryPrimitives.ReadUInt64LittleEndian(_region.Slice(p, 8));
            p += 8;
            if (len > (ulong)(_length - p))
                throw Fail($"metadata '{where}[{i}]': string of {len} bytes runs past the end of the {_length}-byte file ({_length - p} bytes left)", key, p - 8);
            p += (long)len;
            total += (long)len;
        }
        if (total > Array.MaxLength)
            throw Fail($"metadata '{where}': {total} bytes of strings are more than one .NET array holds", key, _pos);

        var bytes = new byte[total];
        var ends = new int[n];
        int end = 0;
        for (int i = 0; i < n; i++)
        {
            int len = (int)BinaryPrimitives.ReadUInt64LittleEndian(_region.Slice(_pos, 8));
            _region.Slice(_pos + 8, len).CopyTo(bytes.AsSpan(end, len));
            _pos += 8 + len;
            end += len;
            ends[i] = end;
        }
        return GgufArray.StringsFromFile(bytes, ends, key);
    }

    // ---- primitives ----

    private void Need(long n, string what, string field)
    {
        if (n > Remaining)
            throw Fail($"{what} at offset {_pos} needs {n} bytes, but the {_length}-byte file has only {Math.Max(0, Remaining)} left", field, _pos);
    }

    private uint ReadU32(string what, string field)
    {
        Need(4, what, field);
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(_region.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    private ulong ReadU64(string what, string field)
    {
        Need(8, what, field);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(_region.Slice(_pos, 8));
        _pos += 8;
        return v;
    }

    /// <summary>A length-prefixed string's bytes, refusing lengths past the file's end or above <paramref name="maxBytes"/>.</summary>
    private byte[] ReadString(string what, string field, int maxBytes)
    {
        long start = _pos;
        ulong len = ReadU64($"length of {what}", field);
        if (len > (ulong)Remaining)
            throw Fail($"{what}: length {len} at offset {start} runs past the end of the {_length}-byte file ({Remaining} bytes left)", field, start);
        if (len > (ulong)maxBytes)
            throw Fail($"{what}: length {len} exceeds the limit of {maxBytes} bytes", field, start);
        var bytes = new byte[len];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>Copies the next dest.Length bytes (already bounds-checked) in chunks a span can address.</summary>
    private void CopyTo(Span<byte> dest)
    {
        const int Chunk = 1 << 30;
        while (dest.Length > 0)
        {
            int n = Math.Min(dest.Length, Chunk);
            _region.Slice(_pos, n).CopyTo(dest);
            _pos += n;
            dest = dest[n..];
        }
    }

    private static long AlignUp(long offset, int alignment) => (offset + alignment - 1) / alignment * alignment;

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
            chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '?';
        return new string(chars);
    }

    private GgufFormatException Fail(string message, string? field, long? offset) => new(message, field, offset);

    private GgufFormatException Fail(string message, string? field) => new(message, field, _pos);
}
