namespace EdgeLm.Gguf;

/// <summary>
/// Type tags of GGUF metadata values, numbered exactly as in the file (a little-endian uint32 before every value,
/// and before the elements of every array).
/// </summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    /// <summary>One byte, 0 or 1; any other byte makes the file invalid.</summary>
    Bool = 7,
    /// <summary>uint64 byte length, then that many bytes of UTF-8 (no terminator).</summary>
    String = 8,
    /// <summary>uint32 element type, uint64 element count, then the elements; arrays may nest.</summary>
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>Facts about <see cref="GgufValueType"/> that the reader and writer share.</summary>
public static class GgufValueTypeInfo
{
    /// <summary>True for the 13 types the format defines.</summary>
    public static bool IsKnown(GgufValueType type) => (uint)type <= (uint)GgufValueType.Float64;

    /// <summary>Bytes a scalar of this type takes in the file; 0 for strings and arrays, whose size varies.</summary>
    public static int FixedSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    /// <summary>
    /// The fewest bytes one value of this type can take in the file: its fixed size, 8 for a string (its length
    /// prefix) and 12 for an array (element type + count). Used to bound element counts before allocating.
    /// </summary>
    public static int MinimumSize(GgufValueType type) => type switch
    {
        GgufValueType.String => 8,
        GgufValueType.Array => 12,
        _ => FixedSize(type),
    };

    /// <summary>True for the eight integer types (not <see cref="GgufValueType.Bool"/>).</summary>
    public static bool IsInteger(GgufValueType type) => type is GgufValueType.UInt8 or GgufValueType.Int8
        or GgufValueType.UInt16 or GgufValueType.Int16 or GgufValueType.UInt32 or GgufValueType.Int32
        or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>True for the integer and floating-point types.</summary>
    public static bool IsNumeric(GgufValueType type) =>
        IsInteger(type) || type is GgufValueType.Float32 or GgufValueType.Float64;
}
