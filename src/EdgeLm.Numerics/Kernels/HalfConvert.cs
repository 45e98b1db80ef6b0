using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Conversions between <see cref="float"/> and the two 16-bit float formats ggml stores: IEEE half (F16) and
/// bfloat16 (BF16). Values travel as raw <see cref="ushort"/> bit patterns, exactly as they sit in a tensor.
/// </summary>
/// <remarks>
/// Float to half rounds to nearest, ties to even, like the F16C instruction ggml uses on x86. Float to bfloat16
/// rounds to nearest even too and turns any NaN into a quiet NaN, like ggml's <c>ggml_compute_fp32_to_bf16</c>.
/// </remarks>
public static unsafe class HalfConvert
{
    // Every half value widened once: 256 KiB. A table load beats the software conversion for the odd single value;
    // kernels that stream weights and need eight at a time widen them in registers instead (see X86Tiles.BlockHeads),
    // since eight scattered table reads per block pushed the weights out of L1.
    private static readonly float[] s_halfToSingle = BuildHalfTable();

    private static float[] BuildHalfTable()
    {
        var table = new float[65536];
        for (int i = 0; i < table.Length; i++)
            table[i] = (float)BitConverter.UInt16BitsToHalf((ushort)i);
        return table;
    }

    /// <summary>Widens one half (given as its bits) to float; exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort half) =>
        Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(s_halfToSingle), half);

    /// <summary>Rounds one float to the nearest half (ties to even) and returns its bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort ToHalf(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>Rounds every element of <paramref name="src"/> to half; <paramref name="dst"/> must be as long.</summary>
    public static void ToHalf(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length != src.Length)
            throw new ArgumentException($"Destination holds {dst.Length} values, source {src.Length}.", nameof(dst));
        TensorPrimitives.ConvertToHalf(src, MemoryMarshal.Cast<ushort, Half>(dst));
    }

    /// <summary>Widens every half in <paramref name="src"/> to float; <paramref name="dst"/> must be as long.</summary>
    public static void ToSingle(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length != src.Length)
            throw new ArgumentException($"Destination holds {dst.Length} values, source {src.Length}.", nameof(dst));
        fixed (ushort* ps = src)
        fixed (float* pd = dst)
            WidenHalves(ps, pd, src.Length);
    }

    /// <summary>
    /// Half to float, 8 or 16 at a time: shifting the 15 magnitude bits up by 13 lands them in a float's exponent
    /// and mantissa fields with the wrong exponent bias; multiplying by 2^112 fixes the bias exactly, for normal and
    /// subnormal halves alike. Infinities and NaNs (all-ones exponent) get the float's all-ones exponent instead, and
    /// NaNs the quiet bit, like the hardware conversion.
    /// </summary>
    internal static void WidenHalves(ushort* src, float* dst, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var h = Vector256.Load(src + i);
                Widen(Vector256.WidenLower(h)).Store(dst + i);
                Widen(Vector256.WidenUpper(h)).Store(dst + i + 8);
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var h = Vector128.Load(src + i);
                Widen(Vector128.WidenLower(h)).Store(dst + i);
                Widen(Vector128.WidenUpper(h)).Store(dst + i + 4);
            }
        }
        for (; i < n; i++)
            dst[i] = ToSingle(src[i]);
    }

    private const uint BiasFix = 0x77800000; // 2^112 as float bits

    /// <summary>Eight halves, one in the low 16 bits of each lane (the high bits clear), widened as <see cref="WidenHalves"/> does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Widen(Vector256<uint> h)
    {
        var magnitude = h & Vector256.Create(0x7FFFu);
        var shifted = Vector256.ShiftLeft(magnitude, 13);
        var finite = (shifted.AsSingle() * Vector256.Create(BiasFix).AsSingle()).AsUInt32();
        var quiet = Vector256.GreaterThan(magnitude, Vector256.Create(0x7C00u)) & Vector256.Create(0x00400000u); // NaNs come out quiet, as with F16C
        var special = shifted | Vector256.Create(0x7F800000u) | quiet;
        var bits = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7C00u)), special, finite);
        return (bits | Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Widen(Vector128<uint> h)
    {
        var magnitude = h & Vector128.Create(0x7FFFu);
        var shifted = Vector128.ShiftLeft(magnitude, 13);
        var finite = (shifted.AsSingle() * Vector128.Create(BiasFix).AsSingle()).AsUInt32();
        var quiet = Vector128.GreaterThan(magnitude, Vector128.Create(0x7C00u)) & Vector128.Create(0x00400000u); // NaNs come out quiet, as with F16C
        var special = shifted | Vector128.Create(0x7F800000u) | quiet;
        var bits = Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(magnitude, Vector128.Create(0x7C00u)), special, finite);
        return (bits | Vector128.ShiftLeft(h & Vector128.Create(0x8000u), 16)).AsSingle();
    }

    /// <summary>Rounds a float to bfloat16 (nearest, ties to even); NaN stays NaN (quieted).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort ToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7fffffffu) > 0x7f800000u)
            return (ushort)((bits >> 16) | 0x40); // NaN: keep sign and payload top, force the quiet bit
        return (ushort)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    }

    /// <summary>Widens a bfloat16 to float; exact (bfloat16 is the top half of a float).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FromBf16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>Rounds every element of <paramref name="src"/> to bfloat16; <paramref name="dst"/> must be as long.</summary>
    public static void ToBf16(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length != src.Length)
            throw new ArgumentException($"Destination holds {dst.Length} values, source {src.Length}.", nameof(dst));
        for (int i = 0; i < src.Length; i++)
            dst[i] = ToBf16(src[i]);
    }

    /// <summary>Widens every bfloat16 in <paramref name="src"/> to float; <paramref name="dst"/> must be as long.</summary>
    public static void FromBf16(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length != src.Length)
            throw new ArgumentException($"Destination holds {dst.Length} values, source {src.Length}.", nameof(dst));
        for (int i = 0; i < src.Length; i++)
            dst[i] = FromBf16(src[i]);
    }
}
