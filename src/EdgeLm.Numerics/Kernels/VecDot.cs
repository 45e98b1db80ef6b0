using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Dot products of one weight row with one activation row, with llama.cpp's semantics: the float activations are
/// first converted ONCE to the weight type's activation format (ggml's <c>vec_dot_type</c>), then each weight block
/// meets the matching activation block in exact integer arithmetic, scaled by the two blocks' scales.
/// </summary>
/// <remarks>
/// Activation formats: F32 -&gt; F32, F16 -&gt; F16, BF16 -&gt; BF16, Q4_0/Q5_0/Q8_0 -&gt; Q8_0, Q4_1/Q5_1 -&gt; Q8_1,
/// Q2_K..Q6_K -&gt; Q8_K. Q8_0/Q8_1 activations are quantized the way llama.cpp's x86 backend does it at run time
/// (127 / amax, round half to even), which can differ from <see cref="Quantize.Row"/> (the file-format reference)
/// in the last bit of a few codes; Q8_K activations are the reference bytes, as in llama.cpp.
/// </remarks>
public static unsafe class VecDot
{
    private static readonly int s_simdWidth =
        Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>Widest vector the fast kernels use here: 256, 128, or 0 (scalar reference only).</summary>
    public static int SimdWidth => s_simdWidth;

    /// <summary>
    /// Which kernel family runs here: "x86-avx2-vnni" or "x86-avx2" (tile kernels with AVX2 + FMA, 8-bit products with
    /// or without AVX-VNNI; "+avx512" appended where the prompt panels take 512-bit vectors), "vector256", "vector128"
    /// (portable kernels) or "scalar" (the reference only).
    /// </summary>
    public static string Backend =>
        X86Tiles.IsSupported ? (X86Tiles.UsesVnni ? "x86-avx2-vnni" : "x86-avx2") + (X86Tiles.UsesAvx512 ? "+avx512" : "")
        : s_simdWidth == 256 ? "vector256" : s_simdWidth == 128 ? "vector128" : "scalar";

    /// <summary>True when <paramref name="weightType"/> can be used as a matmul weight.</summary>
    public static bool IsSupported(GgmlType weightType) => weightType is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0
        or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>The format activations are converted to before meeting weights of <paramref name="weightType"/>.</summary>
    /// <exception cref="NotSupportedException">No dot product exists for this weight type.</exception>
    public static GgmlType ActivationType(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => GgmlType.F32,
        GgmlType.F16 => GgmlType.F16,
        GgmlType.BF16 => GgmlType.BF16,
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => GgmlType.Q8_0,
        GgmlType.Q4_1 or GgmlType.Q5_1 => GgmlType.Q8_1,
        GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => GgmlType.Q8_K,
        _ => throw new NotSupportedException($"No dot product for weight type {weightType}."),
    };

    /// <summary>Bytes of one activation row of <paramref name="columns"/> values prepared for <paramref name="weightType"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="columns"/> is not a whole number of weight blocks.</exception>
    public static int ActivationRowBytes(GgmlType weightType, int columns)
    {
        CheckColumns(weightType, columns);
        return checked((int)GgmlTypeInfo.RowBytes(ActivationType(weightType), columns));
    }

    /// <summary>
    /// Converts one float activation row <paramref name="x"/> to the activation format of <paramref name="weightType"/>;
    /// <paramref name="dst"/> must be exactly <see cref="ActivationRowBytes"/> long.
    /// </summary>
    public static void QuantizeActivations(GgmlType weightType, ReadOnlySpan<float> x, Span<byte> dst)
    {
        int bytes = ActivationRowBytes(weightType, x.Length);
        if (dst.Length != bytes)
            throw new ArgumentException($"A {weightType} activation row of {x.Length} values takes {bytes} bytes, got {dst.Length}.", nameof(dst));
        switch (ActivationType(weightType))
        {
            case GgmlType.F32: x.CopyTo(MemoryMarshal.Cast<byte, float>(dst)); break;
            case GgmlType.F16: HalfConvert.ToHalf(x, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.BF16: HalfConvert.ToBf16(x, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.Q8_0: BlockQ8_0.QuantizeActivations(x, dst); break;
            case GgmlType.Q8_1: BlockQ8_1.QuantizeActivations(x, dst); break;
            default: BlockQ8_K.Quantize(x, dst); break;
        }
    }

    /// <summary>
    /// Dot product of a weight row (<paramref name="columns"/> weights of <paramref name="weightType"/>) with an
    /// activation row prepared by <see cref="QuantizeActivations"/>. Uses the fastest kernels the hardware has, the
    /// same ones <see cref="MatMul"/> uses, so a matmul output equals this dot product exactly. Integer parts are
    /// exact everywhere; the float sum may differ from <see cref="DotReference"/> by rounding (the x86 kernels
    /// accumulate eight float lanes; the portable ones are bit-identical to the reference for quantized types).
    /// Quantized activation codes must lie within -127..127, as <see cref="QuantizeActivations"/> produces them.
    /// </summary>
    public static float Dot(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activationRow, int columns)
    {
        var tiles = TileKernels.For(weightType);
        if (tiles is null)
            return Run(FastKernel(weightType), weightType, weightRow, activationRow, columns);
        Check(weightType, weightRow, activationRow, columns);
        return TileDot(tiles, weightRow, activationRow, columns);
    }

    /// <summary>One output of a tile kernel: the activation row re-laid out in aligned scratch, then a 1x1 tile.</summary>
    [SkipLocalsInit]
    private static float TileDot(TileKernels tiles, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activationRow, int columns)
    {
        int bytes = tiles.PreparedRowBytes(columns) + TileKernels.RowAlignment;
        Span<byte> scratch = bytes <= 32768 ? stackalloc byte[bytes] : new byte[bytes];
        fixed (byte* w = weightRow, a = activationRow, s = scratch)
        {
            byte* prepared = (byte*)(((nint)s + TileKernels.RowAlignment - 1) & ~(nint)(TileKernels.RowAlignment - 1));
            tiles.PrepareFromActivationFormat(a, columns, prepared);
            float y;
            tiles.Tile1x1(w, 0, prepared, 0, &y, 0, columns);
            return y;
        }
    }

    /// <summary>The scalar reference of <see cref="Dot"/>: the oracle the fast kernels are tested against.</summary>
    public static float DotReference(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activationRow, int columns) =>
        Run(ReferenceKernel(weightType), weightType, weightRow, activationRow, columns);

    private static float Run(delegate*<byte*, byte*, int, float> kernel, GgmlType weightType,
        ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activationRow, int columns)
    {
        Check(weightType, weightRow, activationRow, columns);
        fixed (byte* w = weightRow, a = activationRow)
            return kernel(w, a, columns);
    }

    private static void Check(GgmlType weightType, ReadOnlySpan<byte> weightRow, ReadOnlySpan<byte> activationRow, int columns)
    {
        long weightBytes = GgmlTypeInfo.RowBytes(weightType, columns);
        int activationBytes = ActivationRowBytes(weightType, columns);
        if (weightRow.Length != weightBytes)
            throw new ArgumentException($"A {weightType} row of {columns} weights takes {weightBytes} bytes, got {weightRow.Length}.", nameof(weightRow));
        if (activationRow.Length != activationBytes)
            throw new ArgumentException($"The activation row for {columns} {weightType} weights takes {activationBytes} bytes, got {activationRow.Length}.", nameof(activationRow));
    }

    private static void CheckColumns(GgmlType weightType, int columns)
    {
        if (!IsSupported(weightType))
            throw new NotSupportedException($"No dot product for weight type {weightType}.");
        int block = GgmlTypeInfo.BlockSize(weightType);
        if (columns <= 0 || columns % block != 0)
            throw new ArgumentException($"A {weightType} row must hold a positive multiple of {block} weights, got {columns}.", nameof(columns));
    }

    /// <summary>Scalar kernel: (weight row, activation row in the activation format, columns) -&gt; dot.</summary>
    internal static delegate*<byte*, byte*, int, float> ReferenceKernel(GgmlType weightType) => weightType switch
    {
        GgmlType.F32 => &ReferenceDots.F32,
        GgmlType.F16 => &ReferenceDots.F16,
        GgmlType.BF16 => &ReferenceDots.BF16,
        GgmlType.Q4_0 => &ReferenceDots.Q4_0,
        GgmlType.Q4_1 => &ReferenceDots.Q4_1,
        GgmlType.Q5_0 => &ReferenceDots.Q5_0,
        GgmlType.Q5_1 => &ReferenceDots.Q5_1,
        GgmlType.Q8_0 => &ReferenceDots.Q8_0,
        GgmlType.Q2_K => &ReferenceDots.Q2_K,
        GgmlType.Q3_K => &ReferenceDots.Q3_K,
        GgmlType.Q4_K => &ReferenceDots.Q4_K,
        GgmlType.Q5_K => &ReferenceDots.Q5_K,
        GgmlType.Q6_K => &ReferenceDots.Q6_K,
        _ => throw new NotSupportedException($"No dot product for weight type {weightType}."),
    };

    /// <summary>Fastest kernel for this machine, same contract as <see cref="ReferenceKernel"/>.</summary>
    internal static delegate*<byte*, byte*, int, float> FastKernel(GgmlType weightType)
    {
        if (weightType == GgmlType.F32)
            return &SimdDots.F32;
        if (weightType == GgmlType.F16)
            return &SimdDots.F16;
        if (weightType == GgmlType.BF16)
            return &SimdDots.BF16;
        if (s_simdWidth == 256)
        {
            return weightType switch
            {
                GgmlType.Q4_0 => &SimdDots.Q4_0<Acc256>,
                GgmlType.Q4_1 => &SimdDots.Q4_1<Acc256>,
                GgmlType.Q5_0 => &SimdDots.Q5_0<Acc256>,
                GgmlType.Q5_1 => &SimdDots.Q5_1<Acc256>,
                GgmlType.Q8_0 => &SimdDots.Q8_0<Acc256>,
                GgmlType.Q2_K => &SimdDots.Q2_K<Acc256>,
                GgmlType.Q3_K => &SimdDots.Q3_K<Acc256>,
                GgmlType.Q4_K => &SimdDots.Q4_K<Acc256>,
                GgmlType.Q5_K => &SimdDots.Q5_K<Acc256>,
                GgmlType.Q6_K => &SimdDots.Q6_K<Acc256>,
                _ => ReferenceKernel(weightType),
            };
        }
        if (s_simdWidth == 128)
        {
            return weightType switch
            {
                GgmlType.Q4_0 => &SimdDots.Q4_0<Acc128>,
                GgmlType.Q4_1 => &SimdDots.Q4_1<Acc128>,
                GgmlType.Q5_0 => &SimdDots.Q5_0<Acc128>,
                GgmlType.Q5_1 => &SimdDots.Q5_1<Acc128>,
                GgmlType.Q8_0 => &SimdDots.Q8_0<Acc128>,
                GgmlType.Q2_K => &SimdDots.Q2_K<Acc128>,
                GgmlType.Q3_K => &SimdDots.Q3_K<Acc128>,
                GgmlType.Q4_K => &SimdDots.Q4_K<Acc128>,
                GgmlType.Q5_K => &SimdDots.Q5_K<Acc128>,
                GgmlType.Q6_K => &SimdDots.Q6_K<Acc128>,
                _ => ReferenceKernel(weightType),
            };
        }
        return ReferenceKernel(weightType);
    }

    /// <summary>
    /// Kernel for <see cref="MatMul"/>, which keeps F16/BF16 activations as floats already rounded through the
    /// activation format (exactly the values the F16/BF16 row would hold) to skip widening them per row.
    /// </summary>
    internal static delegate*<byte*, byte*, int, float> MatMulKernel(GgmlType weightType) => weightType switch
    {
        GgmlType.F16 => &SimdDots.F16Float,
        GgmlType.BF16 => &SimdDots.BF16Float,
        _ => FastKernel(weightType),
    };
}
