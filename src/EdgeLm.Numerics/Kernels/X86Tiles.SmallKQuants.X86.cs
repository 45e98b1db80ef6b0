using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Q2_K and Q3_K tile kernels against Q8_K activations (the prepared rows of the other k-quants). Both formats hold
/// 256 codes per superblock in sixteen groups of sixteen, each group with its own scale, and lay the codes out alike:
/// step k of half h takes bits 2k of bytes 32h..32h+31 of qs, the first sixteen codes for group 8h + 2k and the next
/// sixteen for group 8h + 2k + 1. The steps multiply unsigned codes against the activations, apply each group's scale
/// in 16-bit lanes, and sum exactly in eight 32-bit lanes; offsets come off once per superblock through the
/// activations' group sums.
/// <list type="bullet">
/// <item>Q3_K (110 bytes: hmask[32], qs[64], scales[12], D): codes -4..3 as u = code + 4 (two bits from qs, the third
/// from hmask), signed 6-bit scales s_g; isum = sum_g s_g (sum u a) - 4 sum_g s_g bsum_g, then
/// acc = fma(isum, D_a D, acc).</item>
/// <item>Q2_K (84 bytes: scales[16], qs[64], D, DMin): codes 0..3, a 4-bit scale and a 4-bit min per group;
/// acc = fma(isum, D_a D, acc) and min = fma(sum_g m_g bsum_g, -D_a DMin, min), each over eight lanes.</item>
/// </list>
/// </summary>
internal static unsafe partial class X86Tiles
{
    private static TileKernels Q2KSet() => UsesAvx512
        ? KQuantSet(&Q2K<Tile1x1>, &Q2K<Tile1x2>, &Q2K<Tile1x3>, &Q2K<Tile1x4>, &Q2K<Tile2x1>, &KQuantPanel16<GroupPanel<Q2Format>>, &GroupPanelBytes)
        : KQuantSet(&Q2K<Tile1x1>, &Q2K<Tile1x2>, &Q2K<Tile1x3>, &Q2K<Tile1x4>, &Q2K<Tile2x1>);

    /// <summary>Q2_K rows against 1-4 tokens (two rows = two single-row calls).</summary>
    [SkipLocalsInit]
    private static void Q2K<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape
    {
        if (TS.Rows == 2)
        {
            Q2K<Tile1x1>(w, wStride, a, aStride, y, yStride, columns);
            Q2K<Tile1x1>(w + wStride, wStride, a, aStride, y + 1, yStride, columns);
            return;
        }
        int nb = columns / KBlock;
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector256<float> min0 = default, min1 = default, min2 = default, min3 = default;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + (long)i * BlockQ2_K.ByteSize;
            if (TS.Tokens == 1)
                PrefetchLines(x + PrefetchDistance, 2);
            var packed = Vector128.Load(x); // group g: scale in the low nibble, min in the high nibble
            var scales = Avx2.ConvertToVector256Int16(packed & Vector128.Create((byte)0x0F));
            var mins = Avx2.ConvertToVector256Int16(Sse2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0x0F));
            var low8 = Vector256.Create(scales.GetLower(), scales.GetLower()); // groups 0-7 in both halves
            var high8 = Vector256.Create(scales.GetUpper(), scales.GetUpper()); // groups 8-15
            var q0 = Vector256.Load(x + 16);
            var q1 = Vector256.Load(x + 48);
            sbyte* c0 = KCodes(a, i), c1 = KCodes(a1, i), c2 = KCodes(a2, i), c3 = KCodes(a3, i);
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            // Eight steps written out, so that every shift count and shuffle pattern is a constant.
            GroupPairStep<TS>(TwoBits(q0, 0), low8, 0, 0, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(TwoBits(q0, 1), low8, 0, 1, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(TwoBits(q0, 2), low8, 0, 2, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(TwoBits(q0, 3), low8, 0, 3, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(TwoBits(q1, 0), high8, 1, 0, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(TwoBits(q1, 1), high8, 1, 1, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(TwoBits(q1, 2), high8, 1, 2, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(TwoBits(q1, 3), high8, 1, 3, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            float d = HalfConvert.ToSingle(*(ushort*)(x + 80)), dmin = HalfConvert.ToSingle(*(ushort*)(x + 82));
            Q2KFinish(ref acc0, ref min0, s0, mins, a, nb, i, d, dmin);
            if (TS.Tokens >= 2)
                Q2KFinish(ref acc1, ref min1, s1, mins, a1, nb, i, d, dmin);
            if (TS.Tokens >= 3)
                Q2KFinish(ref acc2, ref min2, s2, mins, a2, nb, i, d, dmin);
            if (TS.Tokens >= 4)
                Q2KFinish(ref acc3, ref min3, s3, mins, a3, nb, i, d, dmin);
        }
        y[0] = Sum8(acc0) + Sum8(min0);
        if (TS.Tokens >= 2)
            y[yStride] = Sum8(acc1) + Sum8(min1);
        if (TS.Tokens >= 3)
            y[2 * yStride] = Sum8(acc2) + Sum8(min2);
        if (TS.Tokens >= 4)
            y[3 * yStride] = Sum8(acc3) + Sum8(min3);
    }

    /// <summary>acc = fma(isum, D_a D, acc); min = fma(mins . group sums (in vpmaddwd's pairs), -D_a DMin, min).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q2KFinish(ref Vector256<float> acc, ref Vector256<float> minAcc, Vector256<int> isum, Vector256<short> mins,
        byte* act, int nb, int i, float d, float dmin)
    {
        float da = KScale(act, nb, i);
        var msum = Avx2.MultiplyAddAdjacent(mins, KSums(act, nb, i));
        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(da * d), acc);
        minAcc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(msum), Vector256.Create(-da * dmin), minAcc);
    }

    private static TileKernels Q3KSet() => UsesAvx512
        ? KQuantSet(&Q3K<Tile1x1>, &Q3K<Tile1x2>, &Q3K<Tile1x3>, &Q3K<Tile1x4>, &Q3K<Tile2x1>, &KQuantPanel16<GroupPanel<Q3Format>>, &GroupPanelBytes)
        : KQuantSet(&Q3K<Tile1x1>, &Q3K<Tile1x2>, &Q3K<Tile1x3>, &Q3K<Tile1x4>, &Q3K<Tile2x1>);

    /// <summary>Q3_K rows against 1-4 tokens (two rows = two single-row calls).</summary>
    [SkipLocalsInit]
    private static void Q3K<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape
    {
        if (TS.Rows == 2)
        {
            Q3K<Tile1x1>(w, wStride, a, aStride, y, yStride, columns);
            Q3K<Tile1x1>(w + wStride, wStride, a, aStride, y + 1, yStride, columns);
            return;
        }
        int nb = columns / KBlock;
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + (long)i * BlockQ3_K.ByteSize;
            if (TS.Tokens == 1)
                PrefetchLines(x + PrefetchDistance, 2);
            var scales = Q3Scales(x + 96);
            var low8 = Vector256.Create(scales.GetLower(), scales.GetLower()); // groups 0-7 in both halves
            var high8 = Vector256.Create(scales.GetUpper(), scales.GetUpper()); // groups 8-15
            var hmask = Vector256.Load(x);
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            // Eight steps written out, so that every shift count, bit and shuffle pattern is a constant.
            var q0 = Vector256.Load(x + 32);
            var q1 = Vector256.Load(x + 64);
            sbyte* c0 = KCodes(a, i), c1 = KCodes(a1, i), c2 = KCodes(a2, i), c3 = KCodes(a3, i);
            GroupPairStep<TS>(Q3Codes(q0, hmask, 0, 0), low8, 0, 0, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(Q3Codes(q0, hmask, 0, 1), low8, 0, 1, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(Q3Codes(q0, hmask, 0, 2), low8, 0, 2, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(Q3Codes(q0, hmask, 0, 3), low8, 0, 3, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(Q3Codes(q1, hmask, 1, 0), high8, 1, 0, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(Q3Codes(q1, hmask, 1, 1), high8, 1, 1, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(Q3Codes(q1, hmask, 1, 2), high8, 1, 2, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            GroupPairStep<TS>(Q3Codes(q1, hmask, 1, 3), high8, 1, 3, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            float d = HalfConvert.ToSingle(*(ushort*)(x + 108));
            Q3KFinish(ref acc0, s0, scales, a, nb, i, d);
            if (TS.Tokens >= 2)
                Q3KFinish(ref acc1, s1, scales, a1, nb, i, d);
            if (TS.Tokens >= 3)
                Q3KFinish(ref acc2, s2, scales, a2, nb, i, d);
            if (TS.Tokens >= 4)
                Q3KFinish(ref acc3, s3, scales, a3, nb, i, d);
        }
        y[0] = Sum8(acc0);
        if (TS.Tokens >= 2)
            y[yStride] = Sum8(acc1);
        if (TS.Tokens >= 3)
            y[2 * yStride] = Sum8(acc2);
        if (TS.Tokens >= 4)
            y[3 * yStride] = Sum8(acc3);
    }

    /// <summary>
    /// Thirty-two unsigned codes <paramref name="u"/> (step k of half h) against every token: the first sixteen take
    /// word 2k of <paramref name="scales8"/>, the next sixteen word 2k + 1 (the half's eight group scales, in both
    /// 128-bit halves).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GroupPairStep<TS>(Vector256<byte> u, Vector256<short> scales8, int h, int k,
        sbyte* a0, sbyte* a1, sbyte* a2, sbyte* a3, ref Vector256<int> s0, ref Vector256<int> s1, ref Vector256<int> s2, ref Vector256<int> s3)
        where TS : struct, ITileShape
    {
        var pick = Vector256.Create(Vector128.Create((ushort)(0x100 * (4 * k + 1) + 4 * k)), Vector128.Create((ushort)(0x100 * (4 * k + 3) + 4 * k + 2)));
        var scale = Avx2.Shuffle(scales8.AsByte(), pick.AsByte()).AsInt16();
        int o = 128 * h + 32 * k;
        s0 = ScaledDot(u, a0 + o, scale, s0);
        if (TS.Tokens >= 2)
            s1 = ScaledDot(u, a1 + o, scale, s1);
        if (TS.Tokens >= 3)
            s2 = ScaledDot(u, a2 + o, scale, s2);
        if (TS.Tokens >= 4)
            s3 = ScaledDot(u, a3 + o, scale, s3);
    }

    /// <summary>Two bits 2k of every byte of <paramref name="q"/> (a constant k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> TwoBits(Vector256<byte> q, int k) =>
        Vector256.ShiftRightLogical(q.AsUInt16(), 2 * k).AsByte() & Vector256.Create((byte)3);

    /// <summary>Q3_K step k of half h: the two bits of <paramref name="q"/>, the third from bit 4h + k of hmask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Q3Codes(Vector256<byte> q, Vector256<byte> hmask, int h, int k) => TwoBits(q, k) | MoveBit(hmask, 4 * h + k, 2);

    /// <summary>isum -= 4 (scales . group sums), in the lanes vpmaddwd pairs them; then acc = fma(isum, D_a D, acc).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q3KFinish(ref Vector256<float> acc, Vector256<int> isum, Vector256<short> scales, byte* act, int nb, int i, float d)
    {
        var bias = Avx2.MultiplyAddAdjacent(scales, KSums(act, nb, i));
        isum -= Vector256.ShiftLeft(bias, 2);
        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(KScale(act, nb, i) * d), acc);
    }

    /// <summary>
    /// The sixteen signed group scales of a Q3_K superblock (see <see cref="KScales.Q3Scale"/>), as 16-bit lanes in
    /// group order: low four bits from the nibbles of bytes 0-7, top two bits from bytes 8-11.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Q3Scales(byte* packed)
    {
        uint l0 = Unsafe.ReadUnaligned<uint>(packed), l1 = Unsafe.ReadUnaligned<uint>(packed + 4), top = Unsafe.ReadUnaligned<uint>(packed + 8);
        const uint Nibbles = 0x0F0F0F0F, Pairs = 0x03030303;
        var bytes = Vector128.Create(
            (l0 & Nibbles) | ((top & Pairs) << 4),
            (l1 & Nibbles) | (((top >> 2) & Pairs) << 4),
            ((l0 >> 4) & Nibbles) | (((top >> 4) & Pairs) << 4),
            ((l1 >> 4) & Nibbles) | (((top >> 6) & Pairs) << 4)).AsSByte() - Vector128.Create((sbyte)32);
        return Avx2.ConvertToVector256Int16(bytes);
    }
}
