using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Q3_K tile kernels against Q8_K activations (the prepared rows of the other k-quants). A Q3_K superblock (110 bytes:
/// hmask[32], qs[64], scales[12], D) holds 256 codes of -4..3 in sixteen groups of sixteen, each with a signed 6-bit
/// scale. The kernel multiplies the unsigned codes u = code + 4 (0..7: two bits from qs, the third from hmask) and
/// takes the bias off once per superblock through the activations' group sums:
/// isum = sum_g s_g (sum u a) - 4 sum_g s_g bsum_g, exact in 32-bit lanes; then acc = fma(isum, D_a D, acc) over
/// eight lanes, summed as the other k-quant kernels sum them.
/// </summary>
internal static unsafe partial class X86Tiles
{
    private static TileKernels Q3KSet() => KQuantSet(&Q3K<Tile1x1>, &Q3K<Tile1x2>, &Q3K<Tile1x3>, &Q3K<Tile1x4>, &Q3K<Tile2x1>);

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
            Q3KStep<TS>(q0, hmask, low8, 0, 0, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            Q3KStep<TS>(q0, hmask, low8, 0, 1, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            Q3KStep<TS>(q0, hmask, low8, 0, 2, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            Q3KStep<TS>(q0, hmask, low8, 0, 3, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            Q3KStep<TS>(q1, hmask, high8, 1, 0, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            Q3KStep<TS>(q1, hmask, high8, 1, 1, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            Q3KStep<TS>(q1, hmask, high8, 1, 2, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
            Q3KStep<TS>(q1, hmask, high8, 1, 3, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
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
    /// Codes 128h + 32k .. + 31 against every token: two bits 2k of <paramref name="q"/> (qs[32h..32h+31]) and bit 4h + k
    /// of hmask; the first sixteen belong to group 8h + 2k, the next sixteen to group 8h + 2k + 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q3KStep<TS>(Vector256<byte> q, Vector256<byte> hmask, Vector256<short> scales8, int h, int k,
        sbyte* a0, sbyte* a1, sbyte* a2, sbyte* a3, ref Vector256<int> s0, ref Vector256<int> s1, ref Vector256<int> s2, ref Vector256<int> s3)
        where TS : struct, ITileShape
    {
        var u = (Vector256.ShiftRightLogical(q.AsUInt16(), 2 * k).AsByte() & Vector256.Create((byte)3)) | MoveBit(hmask, 4 * h + k, 2);
        // Word 2k of the group scales in the low half, 2k + 1 in the high half: each sixteen codes' own scale.
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
