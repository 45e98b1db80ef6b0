using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// x86 tile kernels (AVX2 + FMA; AVX-VNNI for the 8-bit products where the CPU has it; AVX-512 for the prompt panels
/// of the legacy formats, Q4_K, Q6_K and the float formats where it is enabled, chosen once when the kernel sets are built). Integer parts are exact and
/// land in the same eight 32-bit lanes with or without VNNI (lane l sums bytes 4l..4l+3 of a 32-byte step), so both
/// give bit-identical results; float parts accumulate per lane with fused multiply-adds and are summed in a fixed
/// order at the end (<see cref="Sum8"/>).
/// </summary>
internal static unsafe partial class X86Tiles
{
    /// <summary>
    /// How far ahead of the weights being read the decode kernels prefetch, in bytes. Decode streams every weight
    /// once per token; on the development VM the hardware prefetchers alone left it far below the memory bandwidth
    /// (F16 134M decode 38 -> 60 tok/s at 4-16 KB ahead). Prefetches never fault, so running past a matrix is harmless.
    /// </summary>
    internal const int PrefetchDistance = 4096;

    /// <summary>Hints the cache lines [<paramref name="p"/>, <paramref name="p"/> + 64 * lines) into L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PrefetchLines(byte* p, int lines)
    {
        for (int i = 0; i < lines; i++)
            Sse.Prefetch0(p + 64 * i);
    }

    /// <summary>True when the tile kernels can run here (x64 with AVX2 and FMA enabled).</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>True when the 8-bit products use AVX-VNNI (vpdpbusd) rather than vpmaddubsw + vpmaddwd.</summary>
    public static bool UsesVnni => AvxVnni.IsSupported;

    /// <summary>
    /// True when the prompt panels take 512-bit vectors (legacy formats, Q4_K, Q6_K: sixteen rows, one lane per row;
    /// float formats: two rows per vector): AVX-512 F and BW enabled. The decode kernels and the k-quant tiles stay
    /// 256-bit (a 512-bit Q4_K / Q6_K tile measured no faster: the work outside the integer products dominates).
    /// </summary>
    public static bool UsesAvx512 => Avx512F.IsSupported && Avx512BW.IsSupported;

    /// <summary>The kernel set of <paramref name="type"/>, or null when no tile kernel exists for it.</summary>
    public static TileKernels? Create(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => LegacySet<Q4_0Weights>(),
        GgmlType.Q4_1 => LegacySet<Q4_1Weights>(),
        GgmlType.Q5_0 => LegacySet<Q5_0Weights>(),
        GgmlType.Q5_1 => LegacySet<Q5_1Weights>(),
        GgmlType.Q8_0 => LegacySet<Q8_0Weights>(),
        GgmlType.F32 => FloatSet<F32Weights>(),
        GgmlType.F16 => FloatSet<F16Weights>(),
        GgmlType.BF16 => FloatSet<BF16Weights>(),
        GgmlType.Q2_K => Q2KSet(),
        GgmlType.Q3_K => Q3KSet(),
        GgmlType.Q4_K => Q4KSet(),
        GgmlType.Q5_K => Q5KSet(),
        GgmlType.Q6_K => Q6KSet(),
        _ => null,
    };

    /// <summary>
    /// Unsigned bytes times signed bytes, four adjacent products summed into each 32-bit lane, plus
    /// <paramref name="acc"/>. Exact as long as each pair of adjacent products fits 16 bits
    /// (|u0 s0 + u1 s1| &lt; 32768), which every caller guarantees (codes of at most 8 bits against |s| &lt;= 127,
    /// or the sign trick with |u| &lt;= 128).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> DotBytes(Vector256<byte> u, Vector256<sbyte> s, Vector256<int> acc)
    {
        if (AvxVnni.IsSupported)
            return AvxVnni.MultiplyWideningAndAdd(acc, u, s);
        var pairs = Avx2.MultiplyAddAdjacent(u, s);
        return Avx2.Add(Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1)), acc);
    }

    /// <summary>Signed 16-bit pairs times 16-bit scales, adjacent products summed into 32-bit lanes, plus <paramref name="acc"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> DotWords(Vector256<short> a, Vector256<short> b, Vector256<int> acc)
    {
        if (AvxVnni.IsSupported)
            return AvxVnni.MultiplyWideningAndAdd(acc, a, b);
        return Avx2.Add(Avx2.MultiplyAddAdjacent(a, b), acc);
    }

    /// <summary>The sum of eight lanes in a fixed order: ((v0+v4) + (v2+v6)) + ((v1+v5) + (v3+v7)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum8(Vector256<float> v)
    {
        var t = Sse.Add(v.GetLower(), v.GetUpper());
        var u = Sse.Add(t, Sse.MoveHighToLow(t, t));
        return u.ToScalar() + u.GetElement(1);
    }

    /// <summary>One prepared row's worth of bytes, rounded up to the row alignment.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int AlignRow(int bytes) => (bytes + TileKernels.RowAlignment - 1) & ~(TileKernels.RowAlignment - 1);
}
