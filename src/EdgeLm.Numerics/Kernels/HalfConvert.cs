using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Conversions between <see cref="float"/> and the two 16-bit float formats ggml stores: IEEE half (F16) and
/// bfloat16 (BF16). Values travel as raw <see cref="ushort"/> bit patterns, exactly as they sit in a tensor.
/// </summary>
/// <remarks>
/// Float to half rounds to nearest, ties to even, like the F16C instruction ggml uses on x86. Float to bfloat16
/// rounds to nearest even too and turns any NaN into a quiet NaN, like ggml's <c>ggml_compute_fp32_to_bf16</c>.
/// </remarks>
public static class HalfConvert
{
    // Every half value widened once: 256 KiB, and a table load beats the software conversion in the dot kernels.
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
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(src), dst);
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
