using System.Buffers.Binary;
using System.Collections;
using System.Runtime.InteropServices;
using System.Text;

namespace EdgeLm.Gguf;

/// <summary>
/// An immutable GGUF array: elements of one type. Numbers and bools are kept in one primitive array, strings as one
/// UTF-8 byte buffer with end offsets, so a 150,000-token vocabulary costs two allocations, not 150,000 boxes.
/// Arrays may hold arrays (each inner array has its own element type). The typed accessors (<see cref="AsFloat32s"/>,
/// ...) return copies; <see cref="AsSpan{T}"/> reads in place.
/// </summary>
public sealed class GgufArray : IReadOnlyList<GgufValue>, IEquatable<GgufArray>
{
    private readonly Array? _primitive;      // byte[], sbyte[], ushort[], short[], uint[], int[], float[], bool[], ulong[], long[] or double[]
    private readonly byte[]? _stringBytes;   // strings: all elements' UTF-8 back to back
    private readonly int[]? _stringEnds;     // strings: element i is _stringBytes[end(i-1) .. _stringEnds[i])
    private string[]? _decoded;              // strings: decoded on first use
    private readonly GgufArray[]? _arrays;   // nested arrays

    private GgufArray(GgufValueType elementType, int count, Array? primitive, byte[]? stringBytes, int[]? stringEnds, GgufArray[]? arrays, string? key)
    {
        ElementType = elementType;
        Count = count;
        _primitive = primitive;
        _stringBytes = stringBytes;
        _stringEnds = stringEnds;
        _arrays = arrays;
        Key = key;
    }

    /// <summary>The type of every element.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>Number of elements.</summary>
    public int Count { get; }

    /// <summary>The metadata key this array was read under, when it came from a file; used in error messages.</summary>
    public string? Key { get; }

    /// <summary>An empty array of <paramref name="elementType"/>.</summary>
    public static GgufArray Empty(GgufValueType elementType) => elementType switch
    {
        GgufValueType.String => new GgufArray(elementType, 0, null, [], [], null, null),
        GgufValueType.Array => new GgufArray(elementType, 0, null, null, null, [], null),
        _ when GgufValueTypeInfo.IsKnown(elementType) => new GgufArray(elementType, 0, NewPrimitive(elementType, 0), null, null, null, null),
        _ => throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "Not a GGUF value type."),
    };

    /// <summary>An array of UInt8.</summary>
    public static GgufArray FromUInt8s(ReadOnlySpan<byte> values) => Primitive(GgufValueType.UInt8, values.ToArray());
    /// <summary>An array of Int8.</summary>
    public static GgufArray FromInt8s(ReadOnlySpan<sbyte> values) => Primitive(GgufValueType.Int8, values.ToArray());
    /// <summary>An array of UInt16.</summary>
    public static GgufArray FromUInt16s(ReadOnlySpan<ushort> values) => Primitive(GgufValueType.UInt16, values.ToArray());
    /// <summary>An array of Int16.</summary>
    public static GgufArray FromInt16s(ReadOnlySpan<short> values) => Primitive(GgufValueType.Int16, values.ToArray());
    /// <summary>An array of UInt32.</summary>
    public static GgufArray FromUInt32s(ReadOnlySpan<uint> values) => Primitive(GgufValueType.UInt32, values.ToArray());
    /// <summary>An array of Int32.</summary>
    public static GgufArray FromInt32s(ReadOnlySpan<int> values) => Primitive(GgufValueType.Int32, values.ToArray());
    /// <summary>An array of Float32.</summary>
    public static GgufArray FromFloat32s(ReadOnlySpan<float> values) => Primitive(GgufValueType.Float32, values.ToArray());
    /// <summary>An array of Bool.</summary>
    public static GgufArray FromBools(ReadOnlySpan<bool> values) => Primitive(GgufValueType.Bool, values.ToArray());
    /// <summary>An array of UInt64.</summary>
    public static GgufArray FromUInt64s(ReadOnlySpan<ulong> values) => Primitive(GgufValueType.UInt64, values.ToArray());
    /// <summary>An array of Int64.</summary>
    public static GgufArray FromInt64s(ReadOnlySpan<long> values) => Primitive(GgufValueType.Int64, values.ToArray());
    /// <summary>An array of Float64.</summary>
    public static GgufArray FromFloat64s(ReadOnlySpan<double> values) => Primitive(GgufValueType.Float64, values.ToArray());

    /// <summary>An array of strings, stored as UTF-8.</summary>
    public static GgufArray FromStrings(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var utf8 = new byte[values.Count][];
        for (int i = 0; i < utf8.Length; i++)
            utf8[i] = Encoding.UTF8.GetBytes(values[i] ?? throw new ArgumentException($"Element {i} is null.", nameof(values)));
        return FromUtf8Strings(utf8);
    }

    /// <summary>An array of strings given as raw bytes, kept exactly (see <see cref="GgufValue.FromUtf8"/>).</summary>
    public static GgufArray FromUtf8Strings(IReadOnlyList<byte[]> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        long total = 0;
        foreach (var v in values)
            total += (v ?? throw new ArgumentException("A string is null.", nameof(values))).Length;
        if (total > Array.MaxLength)
            throw new ArgumentException($"The strings hold {total} bytes; at most {Array.MaxLength} fit one array.", nameof(values));
        var bytes = new byte[total];
        var ends = new int[values.Count];
        int end = 0;
        for (int i = 0; i < ends.Length; i++)
        {
            values[i].CopyTo(bytes, end);
            end += values[i].Length;
            ends[i] = end;
        }
        return new GgufArray(GgufValueType.String, ends.Length, null, bytes, ends, null, null);
    }

    /// <summary>An array of arrays (the inner arrays may differ in element type and length).</summary>
    public static GgufArray FromArrays(IReadOnlyList<GgufArray> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = new GgufArray[values.Count];
        for (int i = 0; i < copy.Length; i++)
            copy[i] = values[i] ?? throw new ArgumentException($"Element {i} is null.", nameof(values));
        return new GgufArray(GgufValueType.Array, copy.Length, null, null, null, copy, null);
    }

    /// <summary>An array built from values that must all have type <paramref name="elementType"/>.</summary>
    public static GgufArray FromValues(GgufValueType elementType, IEnumerable<GgufValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var list = values.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is null || list[i].Type != elementType)
                throw new ArgumentException($"Element {i} is {list[i]?.Type.ToString() ?? "null"}, expected {elementType}.", nameof(values));
        }
        switch (elementType)
        {
            case GgufValueType.String:
                return FromUtf8Strings(list.Select(v => v.RawUtf8).ToList());
            case GgufValueType.Array:
                return FromArrays(list.Select(v => v.AsArray()).ToList());
            default:
                if (!GgufValueTypeInfo.IsKnown(elementType))
                    throw new ArgumentOutOfRangeException(nameof(elementType), elementType, "Not a GGUF value type.");
                var primitive = NewPrimitive(elementType, list.Count);
                int size = GgufValueTypeInfo.FixedSize(elementType);
                var bytes = RawBytes(primitive);
                Span<byte> wide = stackalloc byte[8];
                for (int i = 0; i < list.Count; i++)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(wide, list[i].RawBits);
                    wide[..size].CopyTo(bytes.Slice(i * size, size));
                }
                return new GgufArray(elementType, list.Count, primitive, null, null, null, null);
        }
    }

    // Reader entry points: the parser has already validated element types, counts and bool bytes.
    internal static GgufArray PrimitiveFromFile(GgufValueType elementType, Array values, string? key) =>
        new(elementType, values.Length, values, null, null, null, key);
    internal static GgufArray StringsFromFile(byte[] bytes, int[] ends, string? key) =>
        new(GgufValueType.String, ends.Length, null, bytes, ends, null, key);
    internal static GgufArray ArraysFromFile(GgufArray[] arrays, string? key) =>
        new(GgufValueType.Array, arrays.Length, null, null, null, arrays, key);

    /// <summary>A primitive .NET array of the element type's CLR type (bool[] for Bool).</summary>
    internal static Array NewPrimitive(GgufValueType type, int count) => type switch
    {
        GgufValueType.UInt8 => new byte[count],
        GgufValueType.Int8 => new sbyte[count],
        GgufValueType.UInt16 => new ushort[count],
        GgufValueType.Int16 => new short[count],
        GgufValueType.UInt32 => new uint[count],
        GgufValueType.Int32 => new int[count],
        GgufValueType.Float32 => new float[count],
        GgufValueType.Bool => new bool[count],
        GgufValueType.UInt64 => new ulong[count],
        GgufValueType.Int64 => new long[count],
        GgufValueType.Float64 => new double[count],
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not a fixed-size GGUF type."),
    };

    /// <summary>The bytes of a primitive array as stored in memory (little-endian hosts only, as is the whole reader).</summary>
    internal static Span<byte> RawBytes(Array primitive) =>
        MemoryMarshal.CreateSpan(ref MemoryMarshal.GetArrayDataReference(primitive), primitive.Length * ElementSize(primitive));

    private static int ElementSize(Array a) => a switch
    {
        byte[] or sbyte[] or bool[] => 1,
        ushort[] or short[] => 2,
        uint[] or int[] or float[] => 4,
        _ => 8,
    };

    private static Type ClrType(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => typeof(byte),
        GgufValueType.Int8 => typeof(sbyte),
        GgufValueType.UInt16 => typeof(ushort),
        GgufValueType.Int16 => typeof(short),
        GgufValueType.UInt32 => typeof(uint),
        GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float),
        GgufValueType.Bool => typeof(bool),
        GgufValueType.UInt64 => typeof(ulong),
        GgufValueType.Int64 => typeof(long),
        GgufValueType.Float64 => typeof(double),
        GgufValueType.String => typeof(string),
        _ => typeof(GgufArray),
    };

    private static GgufArray Primitive(GgufValueType type, Array values) => new(type, values.Length, values, null, null, null, null);

    // ---- element access ----

    /// <summary>Element <paramref name="i"/> as a value (allocates; prefer the typed accessors for big arrays).</summary>
    public GgufValue this[int i]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(i);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, Count);
            string? key = Key is null ? null : $"{Key}[{i}]";
            switch (ElementType)
            {
                case GgufValueType.String:
                    return GgufValue.StringFromFile(GetUtf8(i).ToArray(), key);
                case GgufValueType.Array:
                    return GgufValue.ArrayFromFile(_arrays![i], key);
                default:
                    int size = GgufValueTypeInfo.FixedSize(ElementType);
                    var bytes = RawBytes(_primitive!).Slice(i * size, size);
                    ulong bits = size switch
                    {
                        1 => ElementType == GgufValueType.Int8 ? unchecked((ulong)(sbyte)bytes[0]) : bytes[0],
                        2 => ElementType == GgufValueType.Int16 ? unchecked((ulong)MemoryMarshal.Read<short>(bytes)) : MemoryMarshal.Read<ushort>(bytes),
                        4 => ElementType == GgufValueType.Int32 ? unchecked((ulong)MemoryMarshal.Read<int>(bytes)) : MemoryMarshal.Read<uint>(bytes),
                        _ => MemoryMarshal.Read<ulong>(bytes),
                    };
                    return GgufValue.ScalarFromFile(ElementType, bits, key);
            }
        }
    }

    /// <summary>The elements in place, when <typeparamref name="T"/> is the element type's CLR type (float for Float32, bool for Bool, ...).</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        if (_primitive is null || ClrType(ElementType) != typeof(T))
            throw new GgufFormatException($"{Describe()} is an array of {ElementType}, not of {typeof(T).Name}", Key);
        return MemoryMarshal.Cast<byte, T>(RawBytes(_primitive));
    }

    /// <summary>A copy of the UInt8 elements.</summary>
    public byte[] AsUInt8s() => Copy<byte>(GgufValueType.UInt8);
    /// <summary>A copy of the Int8 elements.</summary>
    public sbyte[] AsInt8s() => Copy<sbyte>(GgufValueType.Int8);
    /// <summary>A copy of the UInt16 elements.</summary>
    public ushort[] AsUInt16s() => Copy<ushort>(GgufValueType.UInt16);
    /// <summary>A copy of the Int16 elements.</summary>
    public short[] AsInt16s() => Copy<short>(GgufValueType.Int16);
    /// <summary>A copy of the UInt32 elements.</summary>
    public uint[] AsUInt32s() => Copy<uint>(GgufValueType.UInt32);
    /// <summary>A copy of the Int32 elements.</summary>
    public int[] AsInt32s() => Copy<int>(GgufValueType.Int32);
    /// <summary>A copy of the Float32 elements.</summary>
    public float[] AsFloat32s() => Copy<float>(GgufValueType.Float32);
    /// <summary>A copy of the Bool elements.</summary>
    public bool[] AsBools() => Copy<bool>(GgufValueType.Bool);
    /// <summary>A copy of the UInt64 elements.</summary>
    public ulong[] AsUInt64s() => Copy<ulong>(GgufValueType.UInt64);
    /// <summary>A copy of the Int64 elements.</summary>
    public long[] AsInt64s() => Copy<long>(GgufValueType.Int64);
    /// <summary>A copy of the Float64 elements.</summary>
    public double[] AsFloat64s() => Copy<double>(GgufValueType.Float64);

    /// <summary>The string elements (decoded once, then a copy of the cached array is returned).</summary>
    public string[] AsStrings()
    {
        ExpectElement(GgufValueType.String);
        if (_decoded is null)
        {
            var decoded = new string[Count];
            for (int i = 0; i < decoded.Length; i++)
                decoded[i] = Encoding.UTF8.GetString(GetUtf8(i));
            _decoded = decoded;
        }
        return (string[])_decoded.Clone();
    }

    /// <summary>String element <paramref name="i"/>.</summary>
    public string GetString(int i) => _decoded is not null && (uint)i < (uint)Count ? _decoded[i] : Encoding.UTF8.GetString(GetUtf8(i));

    /// <summary>String element <paramref name="i"/>'s bytes exactly as stored.</summary>
    public ReadOnlySpan<byte> GetUtf8(int i)
    {
        ExpectElement(GgufValueType.String);
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(i, Count);
        int start = i == 0 ? 0 : _stringEnds![i - 1];
        return _stringBytes.AsSpan(start, _stringEnds![i] - start);
    }

    /// <summary>The nested arrays (a copy of the list; the arrays themselves are immutable).</summary>
    public GgufArray[] AsArrays()
    {
        ExpectElement(GgufValueType.Array);
        return (GgufArray[])_arrays!.Clone();
    }

    /// <summary>Any integer element type widened to long; UInt64 elements above <see cref="long.MaxValue"/> are refused.</summary>
    public long[] ToInt64s()
    {
        if (!GgufValueTypeInfo.IsInteger(ElementType))
            throw new GgufFormatException($"{Describe()} is an array of {ElementType}, expected integers", Key);
        var result = new long[Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = this[i].ToInt64();
        return result;
    }

    /// <summary>Any numeric element type widened to double.</summary>
    public double[] ToDoubles()
    {
        if (!GgufValueTypeInfo.IsNumeric(ElementType))
            throw new GgufFormatException($"{Describe()} is an array of {ElementType}, expected numbers", Key);
        var result = new double[Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = this[i].ToDouble();
        return result;
    }

    // Writer access.
    internal ReadOnlySpan<byte> PrimitiveBytes => RawBytes(_primitive!);
    internal GgufArray Nested(int i) => _arrays![i];

    private T[] Copy<T>(GgufValueType expected)
    {
        ExpectElement(expected);
        return (T[])_primitive!.Clone();
    }

    private void ExpectElement(GgufValueType expected)
    {
        if (ElementType != expected)
            throw new GgufFormatException($"{Describe()} is an array of {ElementType}, expected {expected}", Key);
    }

    private string Describe() => Key is null ? "array" : $"metadata '{Key}'";

    /// <inheritdoc />
    public IEnumerator<GgufValue> GetEnumerator()
    {
        for (int i = 0; i < Count; i++)
            yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Structural equality: same element type and count, and equal elements (numbers by bit pattern).</summary>
    public bool Equals(GgufArray? other)
    {
        if (other is null || other.ElementType != ElementType || other.Count != Count)
            return false;
        if (ReferenceEquals(this, other))
            return true;
        return ElementType switch
        {
            GgufValueType.String => _stringBytes.AsSpan().SequenceEqual(other._stringBytes) && _stringEnds.AsSpan().SequenceEqual(other._stringEnds),
            GgufValueType.Array => _arrays!.Zip(other._arrays!).All(p => p.First.Equals(p.Second)),
            _ => PrimitiveBytes.SequenceEqual(other.PrimitiveBytes),
        };
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as GgufArray);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(ElementType, Count);

    /// <summary>A summary such as <c>[Int32 x 3: 1, 2, 3]</c>, showing at most the first 8 elements.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append('[').Append(ElementType).Append(" x ").Append(Count);
        for (int i = 0; i < Math.Min(Count, 8); i++)
            sb.Append(i == 0 ? ": " : ", ").Append(ElementType == GgufValueType.String ? $"\"{GetString(i)}\"" : this[i].ToString());
        if (Count > 8)
            sb.Append(", ...");
        return sb.Append(']').ToString();
    }
}
