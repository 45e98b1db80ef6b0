namespace EdgeLm.Numerics.Quants;

/// <summary>
/// Tensor element types, numbered exactly as ggml numbers them (the value stored in a GGUF tensor header).
/// Gaps are types ggml has retired.
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
}

/// <summary>Block geometry of every <see cref="GgmlType"/>: how many weights a block holds and how many bytes it takes.</summary>
public static class GgmlTypeInfo
{
    /// <summary>Weights per block (1 for plain scalar types).</summary>
    public static int BlockSize(GgmlType type) => Geometry(type).BlockSize;

    /// <summary>Bytes per block, identical to ggml's <c>type_size</c>.</summary>
    public static int BlockBytes(GgmlType type) => Geometry(type).BlockBytes;

    /// <summary>Storage cost in bits per weight.</summary>
    public static double BitsPerWeight(GgmlType type)
    {
        var (blockSize, blockBytes) = Geometry(type);
        return 8.0 * blockBytes / blockSize;
    }

    /// <summary>True when <paramref name="type"/> is a value ggml defines (retired numbers are not).</summary>
    public static bool IsKnown(GgmlType type) => TryGeometry(type, out _, out _);

    /// <summary>
    /// Bytes taken by one row of <paramref name="rowLength"/> weights. The row length must be a whole number of blocks.
    /// </summary>
    /// <exception cref="ArgumentException">The row length is not a multiple of the block size.</exception>
    public static long RowBytes(GgmlType type, long rowLength)
    {
        var (blockSize, blockBytes) = Geometry(type);
        if (rowLength % blockSize != 0)
            throw new ArgumentException($"A {type} row must be a multiple of {blockSize} weights, got {rowLength}.", nameof(rowLength));
        return rowLength / blockSize * blockBytes;
    }

    /// <summary>Looks up the block geometry without throwing; false for numbers ggml does not define.</summary>
    public static bool TryGeometry(GgmlType type, out int blockSize, out int blockBytes)
    {
        (blockSize, blockBytes) = type switch
        {
            GgmlType.F32 => (1, 4),
            GgmlType.F16 => (1, 2),
            GgmlType.BF16 => (1, 2),
            GgmlType.F64 => (1, 8),
            GgmlType.I8 => (1, 1),
            GgmlType.I16 => (1, 2),
            GgmlType.I32 => (1, 4),
            GgmlType.I64 => (1, 8),
            GgmlType.Q4_0 => (32, 18),
            GgmlType.Q4_1 => (32, 20),
            GgmlType.Q5_0 => (32, 22),
            GgmlType.Q5_1 => (32, 24),
            GgmlType.Q8_0 => (32, 34),
            GgmlType.Q8_1 => (32, 36),
            GgmlType.IQ4_NL => (32, 18),
            GgmlType.MXFP4 => (32, 17),
            GgmlType.Q2_K => (256, 84),
            GgmlType.Q3_K => (256, 110),
            GgmlType.Q4_K => (256, 144),
            GgmlType.Q5_K => (256, 176),
            GgmlType.Q6_K => (256, 210),
            GgmlType.Q8_K => (256, 292),
            GgmlType.IQ2_XXS => (256, 66),
            GgmlType.IQ2_XS => (256, 74),
            GgmlType.IQ3_XXS => (256, 98),
            GgmlType.IQ1_S => (256, 50),
            GgmlType.IQ3_S => (256, 110),
            GgmlType.IQ2_S => (256, 82),
            GgmlType.IQ4_XS => (256, 136),
            GgmlType.IQ1_M => (256, 56),
            GgmlType.TQ1_0 => (256, 54),
            GgmlType.TQ2_0 => (256, 66),
            _ => (0, 0),
        };
        return blockSize != 0;
    }

    private static (int BlockSize, int BlockBytes) Geometry(GgmlType type) =>
        TryGeometry(type, out var size, out var bytes)
            ? (size, bytes)
            : throw new ArgumentOutOfRangeException(nameof(type), type, $"ggml defines no tensor type {(uint)type}.");
}
