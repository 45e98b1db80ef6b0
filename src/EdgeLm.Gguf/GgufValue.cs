using System.Globalization;
using System.Text;

namespace EdgeLm.Gguf;

/// <summary>
/// One immutable GGUF metadata value: a scalar, a string (UTF-8 in the file) or an array.
/// The <c>As*</c> accessors demand the exact type; <see cref="ToInt64"/> and <see cref="ToDouble"/> convert.
/// Values read from a file remember their key, so a type mismatch names it.
/// </summary>
public sealed class GgufValue : IEquatable<GgufValue>
{
    // Scalars keep their payload here: unsigned types zero-extended, signed types sign-extended,
    // floats as their IEEE bit patterns, bools as 0/1.
    private readonly ulong _bits;
    // Strings keep the exact bytes from the file, so even invalid UTF-8 writes back unchanged.
    private readonly byte[]? _utf8;
    private string? _text;
    private readonly GgufArray? _array;

    private GgufValue(GgufValueType type, ulong bits, byte[]? utf8, string? text, GgufArray? array, string? key)
    {
        Type = type;
        _bits = bits;
        _utf8 = utf8;
        _text = text;
        _array = array;
        Key = key;
    }

    /// <summary>The value's type tag.</summary>
    public GgufValueType Type { get; }

    /// <summary>The metadata key this value was read under, when it came from a file; used in error messages.</summary>
    public string? Key { get; }

    /// <summary>A UInt32 value.</summary>
    public static GgufValue From(uint v) => Scalar(GgufValueType.UInt32, v);
    /// <summary>An Int32 value.</summary>
    public static GgufValue From(int v) => Scalar(GgufValueType.Int32, unchecked((ulong)(long)v));
    /// <summary>A Float32 value.</summary>
    public static GgufValue From(float v) => Scalar(GgufValueType.Float32, unchecked((uint)BitConverter.SingleToInt32Bits(v)));
    /// <summary>A Bool value.</summary>
    public static GgufValue From(bool v) => Scalar(GgufValueType.Bool, v ? 1UL : 0UL);
    /// <summary>A String value, stored as UTF-8.</summary>
    public static GgufValue From(string v)
    {
        ArgumentNullException.ThrowIfNull(v);
        return new GgufValue(GgufValueType.String, 0, Encoding.UTF8.GetBytes(v), v, null, null);
    }
    /// <summary>A UInt64 value.</summary>
    public static GgufValue From(ulong v) => Scalar(GgufValueType.UInt64, v);
    /// <summary>An Int64 value.</summary>
    public static GgufValue From(long v) => Scalar(GgufValueType.Int64, unchecked((ulong)v));
    /// <summary>A Float64 value.</summary>
    public static GgufValue From(double v) => Scalar(GgufValueType.Float64, unchecked((ulong)BitConverter.DoubleToInt64Bits(v)));
    /// <summary>A UInt8 value.</summary>
    public static GgufValue FromUInt8(byte v) => Scalar(GgufValueType.UInt8, v);
    /// <summary>An Int8 value.</summary>
    public static GgufValue FromInt8(sbyte v) => Scalar(GgufValueType.Int8, unchecked((ulong)(long)v));
    /// <summary>A UInt16 value.</summary>
    public static GgufValue FromUInt16(ushort v) => Scalar(GgufValueType.UInt16, v);
    /// <summary>An Int16 value.</summary>
    public static GgufValue FromInt16(short v) => Scalar(GgufValueType.Int16, unchecked((ulong)(long)v));
    /// <summary>A UInt32 value (same as <see cref="From(uint)"/>, for symmetry with the narrow types).</summary>
    public static GgufValue FromUInt32(uint v) => From(v);
    /// <summary>An Int32 value.</summary>
    public static GgufValue FromInt32(int v) => From(v);
    /// <summary>A UInt64 value.</summary>
    public static GgufValue FromUInt64(ulong v) => From(v);
    /// <summary>An Int64 value.</summary>
    public static GgufValue FromInt64(long v) => From(v);
    /// <summary>A Float32 value.</summary>
    public static GgufValue FromFloat32(float v) => From(v);
    /// <summary>A Float64 value.</summary>
    public static GgufValue FromFloat64(double v) => From(v);

    /// <summary>
    /// A String value from raw bytes, kept exactly as given (GGUF promises UTF-8, but the bytes are written back
    /// unchanged even when they are not).
    /// </summary>
    public static GgufValue FromUtf8(ReadOnlySpan<byte> utf8) => new(GgufValueType.String, 0, utf8.ToArray(), null, null, null);

    /// <summary>An Array value.</summary>
    public static GgufValue FromArray(GgufArray a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return new GgufValue(GgufValueType.Array, 0, null, null, a, null);
    }

    /// <summary>An array of strings.</summary>
    public static GgufValue FromStrings(IReadOnlyList<string> values) => FromArray(GgufArray.FromStrings(values));
    /// <summary>An array of Float32.</summary>
    public static GgufValue FromFloat32s(ReadOnlySpan<float> values) => FromArray(GgufArray.FromFloat32s(values));
    /// <summary>An array of Int32.</summary>
    public static GgufValue FromInt32s(ReadOnlySpan<int> values) => FromArray(GgufArray.FromInt32s(values));
    /// <summary>An array of UInt32.</summary>
    public static GgufValue FromUInt32s(ReadOnlySpan<uint> values) => FromArray(GgufArray.FromUInt32s(values));
    /// <summary>An array of Int64.</summary>
    public static GgufValue FromInt64s(ReadOnlySpan<long> values) => FromArray(GgufArray.FromInt64s(values));
    /// <summary>An array of Bool.</summary>
    public static GgufValue FromBools(ReadOnlySpan<bool> values) => FromArray(GgufArray.FromBools(values));

    // Reader entry points: the parser has already checked the bytes.
    internal static GgufValue ScalarFromFile(GgufValueType type, ulong bits, string? key) => new(type, bits, null, null, null, key);
    internal static GgufValue StringFromFile(byte[] utf8, string? key) => new(GgufValueType.String, 0, utf8, null, null, key);
    internal static GgufValue ArrayFromFile(GgufArray array, string? key) => new(GgufValueType.Array, 0, null, null, array, key);

    /// <summary>The same value remembering <paramref name="key"/> for error messages (values are otherwise shared).</summary>
    internal GgufValue WithKey(string? key) => key == Key ? this : new GgufValue(Type, _bits, _utf8, _text, _array, key);

    private static GgufValue Scalar(GgufValueType type, ulong bits) => new(type, bits, null, null, null, null);

    internal ulong RawBits => _bits;
    internal byte[] RawUtf8 => _utf8!;

    /// <summary>The string. Invalid UTF-8 in the file decodes with U+FFFD replacement characters.</summary>
    public string AsString()
    {
        Expect(GgufValueType.String);
        return _text ??= Encoding.UTF8.GetString(_utf8!);
    }

    /// <summary>The string's bytes exactly as stored.</summary>
    public ReadOnlySpan<byte> AsUtf8()
    {
        Expect(GgufValueType.String);
        return _utf8;
    }

    /// <summary>The Bool value.</summary>
    public bool AsBool() { Expect(GgufValueType.Bool); return _bits != 0; }
    /// <summary>The UInt8 value.</summary>
    public byte AsUInt8() { Expect(GgufValueType.UInt8); return (byte)_bits; }
    /// <summary>The Int8 value.</summary>
    public sbyte AsInt8() { Expect(GgufValueType.Int8); return unchecked((sbyte)_bits); }
    /// <summary>The UInt16 value.</summary>
    public ushort AsUInt16() { Expect(GgufValueType.UInt16); return (ushort)_bits; }
    /// <summary>The Int16 value.</summary>
    public short AsInt16() { Expect(GgufValueType.Int16); return unchecked((short)_bits); }
    /// <summary>The UInt32 value.</summary>
    public uint AsUInt32() { Expect(GgufValueType.UInt32); return (uint)_bits; }
    /// <summary>The Int32 value.</summary>
    public int AsInt32() { Expect(GgufValueType.Int32); return unchecked((int)_bits); }
    /// <summary>The Float32 value.</summary>
    public float AsFloat32() { Expect(GgufValueType.Float32); return BitConverter.Int32BitsToSingle(unchecked((int)(uint)_bits)); }
    /// <summary>The UInt64 value.</summary>
    public ulong AsUInt64() { Expect(GgufValueType.UInt64); return _bits; }
    /// <summary>The Int64 value.</summary>
    public long AsInt64() { Expect(GgufValueType.Int64); return unchecked((long)_bits); }
    /// <summary>The Float64 value.</summary>
    public double AsFloat64() { Expect(GgufValueType.Float64); return BitConverter.Int64BitsToDouble(unchecked((long)_bits)); }

    /// <summary>The array.</summary>
    public GgufArray AsArray() { Expect(GgufValueType.Array); return _array!; }

    /// <summary>Any integer type as a long; a UInt64 above <see cref="long.MaxValue"/> is refused.</summary>
    /// <exception cref="GgufFormatException">Not an integer, or out of range.</exception>
    public long ToInt64()
    {
        if (!GgufValueTypeInfo.IsInteger(Type))
            throw new GgufFormatException($"{Describe()} is {Type}, expected an integer", Key);
        if (Type == GgufValueType.UInt64 && _bits > long.MaxValue)
            throw new GgufFormatException($"{Describe()} = {_bits} does not fit a signed 64-bit integer", Key);
        return unchecked((long)_bits);
    }

    /// <summary>Any integer or floating-point type as a double (a UInt64 or Int64 may round).</summary>
    /// <exception cref="GgufFormatException">Not a number.</exception>
    public double ToDouble() => Type switch
    {
        GgufValueType.Float32 => AsFloat32(),
        GgufValueType.Float64 => AsFloat64(),
        GgufValueType.UInt64 => _bits,
        _ when GgufValueTypeInfo.IsInteger(Type) => unchecked((long)_bits),
        _ => throw new GgufFormatException($"{Describe()} is {Type}, expected a number", Key),
    };

    private void Expect(GgufValueType type)
    {
        if (Type != type)
            throw new GgufFormatException($"{Describe()} is {Type}, expected {type}", Key);
    }

    private string Describe() => Key is null ? "value" : $"metadata '{Key}'";

    /// <summary>Structural equality: same type and same bits (floats compare by bit pattern, strings by bytes).</summary>
    public bool Equals(GgufValue? other)
    {
        if (other is null || other.Type != Type)
            return false;
        return Type switch
        {
            GgufValueType.String => _utf8.AsSpan().SequenceEqual(other._utf8),
            GgufValueType.Array => _array!.Equals(other._array),
            _ => _bits == other._bits,
        };
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as GgufValue);

    /// <inheritdoc />
    public override int GetHashCode() => Type switch
    {
        GgufValueType.String => HashCode.Combine(Type, _utf8!.Length, _utf8.Length > 0 ? _utf8[0] : 0),
        GgufValueType.Array => HashCode.Combine(Type, _array!.GetHashCode()),
        _ => HashCode.Combine(Type, _bits),
    };

    /// <summary>A short human-readable rendering: the number, the string, or an array summary.</summary>
    public override string ToString() => Type switch
    {
        GgufValueType.String => AsString(),
        GgufValueType.Array => _array!.ToString(),
        GgufValueType.Bool => _bits != 0 ? "true" : "false",
        GgufValueType.Float32 => AsFloat32().ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.Float64 => AsFloat64().ToString("R", CultureInfo.InvariantCulture),
        GgufValueType.UInt64 => _bits.ToString(CultureInfo.InvariantCulture),
        _ => unchecked((long)_bits).ToString(CultureInfo.InvariantCulture),
    };
}
