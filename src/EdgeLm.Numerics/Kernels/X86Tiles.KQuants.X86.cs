using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// k-quant tile kernels against Q8_K activations. Prepared activation row of nb superblocks:
/// [nb x 256 code bytes][nb x 16 int16 group sums][nb floats D], padded to 64 bytes (the Q8_K blocks re-laid out so
/// code loads are aligned). Per superblock and output: the sub-block scales are applied in integers
/// (vpmaddubsw, then vpmaddwd / vpdpwssd against the scale), code biases are taken off in integers through the
/// group sums, offsets (mins) in a second fused multiply-add; one row at a time, up to four tokens per weight load.
/// Float steps follow llama.cpp's AVX2 kernels (per-superblock lanes, then a fixed-order horizontal sum), which
/// keeps our logits closest to the reference engine's.
/// </summary>
internal static unsafe partial class X86Tiles
{
    private const int KBlock = 256;

    private static TileKernels KQuantSet(
        delegate*<byte*, long, byte*, long, float*, long, int, void> t1,
        delegate*<byte*, long, byte*, long, float*, long, int, void> t2,
        delegate*<byte*, long, byte*, long, float*, long, int, void> t3,
        delegate*<byte*, long, byte*, long, float*, long, int, void> t4,
        delegate*<byte*, long, byte*, long, float*, long, int, void> pair,
        delegate*<byte*, long, byte*, long, float*, long, int, int, byte*, void> panel16 = null,
        delegate*<int, int> panelBytes = null) => new()
    {
        PreparedLayout = 1000, // every k-quant takes the same Q8_K rows
        PreparedRowBytes = &KRowBytes,
        Prepare = &PrepareK,
        PrepareFromActivationFormat = &ConvertK,
        Tile1x1 = t1,
        Tile2x1 = pair,
        Tile1x2 = t2,
        Tile1x3 = t3,
        Tile1x4 = t4,
        Panel16 = panel16,
        PanelBytes = panelBytes,
    };

    private static TileKernels Q4KSet() => UsesAvx512
        ? KQuantSet(&Q4K<Tile1x1>, &Q4K<Tile1x2>, &Q4K<Tile1x3>, &Q4K<Tile1x4>, &Q4K<Tile2x1>, &KQuantPanel16<Q45KPanel<Q4Codes>>, &Q4KPanelBytes)
        : KQuantSet(&Q4K<Tile1x1>, &Q4K<Tile1x2>, &Q4K<Tile1x3>, &Q4K<Tile1x4>, &Q4K<Tile2x1>);

    private static TileKernels Q5KSet() => UsesAvx512
        ? KQuantSet(&Q5K<Tile1x1>, &Q5K<Tile1x2>, &Q5K<Tile1x3>, &Q5K<Tile1x4>, &Q5K<Tile2x1>, &KQuantPanel16<Q45KPanel<Q5Codes>>, &Q4KPanelBytes)
        : KQuantSet(&Q5K<Tile1x1>, &Q5K<Tile1x2>, &Q5K<Tile1x3>, &Q5K<Tile1x4>, &Q5K<Tile2x1>);

    private static TileKernels Q6KSet() => UsesAvx512
        ? KQuantSet(&Q6K<Tile1x1>, &Q6K<Tile1x2>, &Q6K<Tile1x3>, &Q6K<Tile1x4>, &Q6K<Tile2x1>, &KQuantPanel16<Q6KPanel>, &Q6KPanelBytes)
        : KQuantSet(&Q6K<Tile1x1>, &Q6K<Tile1x2>, &Q6K<Tile1x3>, &Q6K<Tile1x4>, &Q6K<Tile2x1>);

    private static int KRowBytes(int columns) => AlignRow(columns / KBlock * BlockQ8_K.ByteSize);

    [SkipLocalsInit]
    private static void PrepareK(float* x, int columns, byte* dst)
    {
        const int Chunk = 8;
        byte* tmp = stackalloc byte[Chunk * BlockQ8_K.ByteSize];
        int nb = columns / KBlock;
        for (int first = 0; first < nb; first += Chunk)
        {
            int count = Math.Min(Chunk, nb - first);
            BlockQ8_K.Quantize(new ReadOnlySpan<float>(x + first * KBlock, count * KBlock), new Span<byte>(tmp, count * BlockQ8_K.ByteSize));
            ConvertKBlocks(tmp, first, count, nb, dst);
        }
    }

    private static void ConvertK(byte* src, int columns, byte* dst) => ConvertKBlocks(src, 0, columns / KBlock, columns / KBlock, dst);

    private static void ConvertKBlocks(byte* src, int first, int count, int nb, byte* dst)
    {
        for (int i = 0; i < count; i++)
        {
            var block = (BlockQ8_K*)src + i;
            int b = first + i;
            Buffer.MemoryCopy(block->Qs, dst + (long)b * KBlock, KBlock, KBlock);
            Buffer.MemoryCopy(block->BSums, dst + (long)nb * KBlock + b * 32, 32, 32);
            ((float*)(dst + (long)nb * 288))[b] = block->D;
        }
    }

    /// <summary>The (codes, group sums, scale) of superblock <paramref name="i"/> of a prepared K row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static sbyte* KCodes(byte* act, int i) => (sbyte*)act + (long)i * KBlock;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> KSums(byte* act, int nb, int i) => Vector256.Load((short*)(act + (long)nb * KBlock) + i * 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float KScale(byte* act, int nb, int i) => ((float*)(act + (long)nb * 288))[i];

    /// <summary>Bytes 0-7: the eight 6-bit scales of a Q4_K/Q5_K superblock; bytes 8-15: the eight mins (see KScales.ScaleMin).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> ScalesAndMins(byte* packed)
    {
        uint u0 = Unsafe.ReadUnaligned<uint>(packed), u1 = Unsafe.ReadUnaligned<uint>(packed + 4), u2 = Unsafe.ReadUnaligned<uint>(packed + 8);
        uint scales47 = (u2 & 0x0F0F0F0F) | (((u0 >> 6) & 0x03030303) << 4);
        uint mins47 = ((u2 >> 4) & 0x0F0F0F0F) | (((u1 >> 6) & 0x03030303) << 4);
        var v = Vector128.Create(u0 & 0x3F3F3F3F, scales47, u1 & 0x3F3F3F3F, mins47).AsByte();
        return Vector256.Create(v, v);
    }

    /// <summary>Every 16-bit lane = byte <paramref name="index"/> of each 128-bit half of <paramref name="bytes"/>, zero-extended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> BroadcastByte(Vector256<byte> bytes, int index) =>
        Avx2.Shuffle(bytes, Vector256.Create((ushort)(0x8000 | index)).AsByte()).AsInt16();

    /// <summary>scale * (codes . activations) added to <paramref name="acc"/> in eight exact 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ScaledDot(Vector256<byte> codes, sbyte* act, Vector256<short> scale, Vector256<int> acc) =>
        DotWords(Avx2.MultiplyAddAdjacent(codes, Vector256.Load(act)), scale, acc);

    /// <summary>
    /// The codes of a Q4_K or Q5_K superblock, 64 at a time: Q5_K is Q4_K with each code's fifth bit (qh) put back
    /// above its nibble, so its codes run 0-31 (vpmaddubsw pairs stay within 16 bits: 2 x 31 x 128 &lt; 32768); scales,
    /// mins and float steps are the same.
    /// </summary>
    private interface IQ45Codes
    {
        static abstract int BlockBytes { get; }

        /// <summary>Codes 64c..64c+63 of the superblock at <paramref name="x"/>: sub-block 2c in <paramref name="low"/>, 2c + 1 in <paramref name="high"/>.</summary>
        static abstract void Codes(byte* x, int c, out Vector256<byte> low, out Vector256<byte> high);
    }

    private readonly struct Q4Codes : IQ45Codes
    {
        public static int BlockBytes => BlockQ4_K.ByteSize;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Codes(byte* x, int c, out Vector256<byte> low, out Vector256<byte> high) => Q4KNibbles(x, c, out low, out high);
    }

    private readonly struct Q5Codes : IQ45Codes
    {
        public static int BlockBytes => BlockQ5_K.ByteSize;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Codes(byte* x, int c, out Vector256<byte> low, out Vector256<byte> high)
        {
            var raw = Vector256.Load(x + 48 + 32 * c);
            var qh = Vector256.Load(x + 16);
            var mask = Vector256.Create((byte)0x0F);
            low = (raw & mask) | MoveBit(qh, 2 * c, 4);
            high = (Avx2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & mask) | MoveBit(qh, 2 * c + 1, 4);
        }
    }

    /// <summary>Codes of sub-blocks 2c (<paramref name="low"/>) and 2c + 1 (<paramref name="high"/>) of one Q4_K superblock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4KNibbles(byte* x, int c, out Vector256<byte> low, out Vector256<byte> high)
    {
        var raw = Vector256.Load(x + 16 + 32 * c);
        var mask = Vector256.Create((byte)0x0F);
        low = raw & mask;
        high = Avx2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & mask;
    }

    /// <summary>Q4_K rows against 1-4 tokens (two rows = two single-row calls).</summary>
    private static void Q4K<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape =>
        Q45K<TS, Q4Codes>(w, wStride, a, aStride, y, yStride, columns);

    /// <summary>Q5_K rows against 1-4 tokens (two rows = two single-row calls).</summary>
    private static void Q5K<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape =>
        Q45K<TS, Q5Codes>(w, wStride, a, aStride, y, yStride, columns);

    [SkipLocalsInit]
    private static void Q45K<TS, TF>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns)
        where TS : struct, ITileShape where TF : struct, IQ45Codes
    {
        if (TS.Rows == 2)
        {
            Q45K<Tile1x1, TF>(w, wStride, a, aStride, y, yStride, columns);
            Q45K<Tile1x1, TF>(w + wStride, wStride, a, aStride, y + 1, yStride, columns);
            return;
        }
        int nb = columns / KBlock;
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        Vector128<float> min0 = default, min1 = default, min2 = default, min3 = default;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + (long)i * TF.BlockBytes;
            if (TS.Tokens == 1)
                PrefetchLines(x + PrefetchDistance, 3);
            var sm = ScalesAndMins(x + 4);
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            Q45KChunk<TS, TF>(x, sm, 0, KCodes(a, i), KCodes(a1, i), KCodes(a2, i), KCodes(a3, i), ref s0, ref s1, ref s2, ref s3);
            Q45KChunk<TS, TF>(x, sm, 1, KCodes(a, i), KCodes(a1, i), KCodes(a2, i), KCodes(a3, i), ref s0, ref s1, ref s2, ref s3);
            Q45KChunk<TS, TF>(x, sm, 2, KCodes(a, i), KCodes(a1, i), KCodes(a2, i), KCodes(a3, i), ref s0, ref s1, ref s2, ref s3);
            Q45KChunk<TS, TF>(x, sm, 3, KCodes(a, i), KCodes(a1, i), KCodes(a2, i), KCodes(a3, i), ref s0, ref s1, ref s2, ref s3);
            if (TS.Tokens == 1)
                s0 += s1;
            float d = HalfConvert.ToSingle(*(ushort*)x), dmin = HalfConvert.ToSingle(*(ushort*)(x + 2));
            var mins = Sse2.UnpackHigh(sm.GetLower(), Vector128<byte>.Zero).AsInt16(); // bytes 8-15: the mins
            KFinish(ref acc0, ref min0, s0, mins, a, nb, i, d, dmin);
            if (TS.Tokens >= 2)
                KFinish(ref acc1, ref min1, s1, mins, a1, nb, i, d, dmin);
            if (TS.Tokens >= 3)
                KFinish(ref acc2, ref min2, s2, mins, a2, nb, i, d, dmin);
            if (TS.Tokens >= 4)
                KFinish(ref acc3, ref min3, s3, mins, a3, nb, i, d, dmin);
        }
        y[0] = Sum8(acc0) + Sum4(min0);
        if (TS.Tokens >= 2)
            y[yStride] = Sum8(acc1) + Sum4(min1);
        if (TS.Tokens >= 3)
            y[2 * yStride] = Sum8(acc2) + Sum4(min2);
        if (TS.Tokens >= 4)
            y[3 * yStride] = Sum8(acc3) + Sum4(min3);
    }

    /// <summary>Codes 64c..64c+63 of a Q4_K / Q5_K superblock (sub-blocks 2c, 2c+1) against every token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q45KChunk<TS, TF>(byte* x, Vector256<byte> sm, int c, sbyte* a0, sbyte* a1, sbyte* a2, sbyte* a3,
        ref Vector256<int> s0, ref Vector256<int> s1, ref Vector256<int> s2, ref Vector256<int> s3) where TS : struct, ITileShape where TF : struct, IQ45Codes
    {
        TF.Codes(x, c, out var lo, out var hi);
        var scaleLo = BroadcastByte(sm, 2 * c);
        var scaleHi = BroadcastByte(sm, 2 * c + 1);
        int o = 64 * c;
        if (TS.Tokens == 1)
        {
            // One token: two independent integer chains (s1 is otherwise unused), added at the end; exact either way.
            s0 = ScaledDot(lo, a0 + o, scaleLo, s0);
            s1 = ScaledDot(hi, a0 + o + 32, scaleHi, s1);
            return;
        }
        s0 = ScaledDot(hi, a0 + o + 32, scaleHi, ScaledDot(lo, a0 + o, scaleLo, s0));
        if (TS.Tokens >= 2)
            s1 = ScaledDot(hi, a1 + o + 32, scaleHi, ScaledDot(lo, a1 + o, scaleLo, s1));
        if (TS.Tokens >= 3)
            s2 = ScaledDot(hi, a2 + o + 32, scaleHi, ScaledDot(lo, a2 + o, scaleLo, s2));
        if (TS.Tokens >= 4)
            s3 = ScaledDot(hi, a3 + o + 32, scaleHi, ScaledDot(lo, a3 + o, scaleLo, s3));
    }

    /// <summary>
    /// Bit <paramref name="from"/> of every byte moved to bit <paramref name="to"/> (both constants, 0-7), all other bits
    /// cleared. The 16-bit shifts cannot carry it across bytes, since no other bit is left set.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> MoveBit(Vector256<byte> bytes, int from, int to)
    {
        var one = (bytes & Vector256.Create((byte)(1 << from))).AsUInt16();
        return (from <= to ? Vector256.ShiftLeft(one, to - from) : Vector256.ShiftRightLogical(one, from - to)).AsByte();
    }

    /// <summary>
    /// acc += isum * (D_a D) over eight lanes; mins -= (mins . group-sum pairs) * (D_a DMin) over four lanes, lane k
    /// holding sub-blocks 2k and 2k+1 (the split llama.cpp's AVX2 kernel uses, so roundings stay close to it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void KFinish(ref Vector256<float> acc, ref Vector128<float> minAcc, Vector256<int> isum, Vector128<short> mins,
        byte* act, int nb, int i, float d, float dmin)
    {
        float da = KScale(act, nb, i);
        var sums = KSums(act, nb, i);
        var pairSums = Ssse3.HorizontalAdd(sums.GetLower(), sums.GetUpper());
        var msum = Sse2.MultiplyAddAdjacent(mins, pairSums);
        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(da * d), acc);
        minAcc = Fma.MultiplyAdd(Sse2.ConvertToVector128Single(msum), Vector128.Create(-da * dmin), minAcc);
    }

    /// <summary>The sum of four lanes in a fixed order: (v0+v2) + (v1+v3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum4(Vector128<float> v)
    {
        var t = Sse.Add(v, Sse.MoveHighToLow(v, v));
        return t.ToScalar() + t.GetElement(1);
    }

    /// <summary>Q6_K rows against 1-4 tokens.</summary>
    [SkipLocalsInit]
    private static void Q6K<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape
    {
        if (TS.Rows == 2)
        {
            Q6K<Tile1x1>(w, wStride, a, aStride, y, yStride, columns);
            Q6K<Tile1x1>(w + wStride, wStride, a, aStride, y + 1, yStride, columns);
            return;
        }
        int nb = columns / KBlock;
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + (long)i * BlockQ6_K.ByteSize;
            if (TS.Tokens == 1)
                PrefetchLines(x + PrefetchDistance, 4);
            var scales = Vector128.Load((sbyte*)x + 192);
            Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
            Q6KHalf<TS>(x, scales, 0, KCodes(a, i), KCodes(a1, i), KCodes(a2, i), KCodes(a3, i), ref s0, ref s1, ref s2, ref s3);
            Q6KHalf<TS>(x, scales, 1, KCodes(a, i), KCodes(a1, i), KCodes(a2, i), KCodes(a3, i), ref s0, ref s1, ref s2, ref s3);
            if (TS.Tokens == 1)
                s0 += s1;
            float d = HalfConvert.ToSingle(*(ushort*)(x + 208));
            var wide = Avx2.ConvertToVector256Int16(scales);
            acc0 = BiasedFinish(acc0, s0, wide, a, nb, i, d);
            if (TS.Tokens >= 2)
                acc1 = BiasedFinish(acc1, s1, wide, a1, nb, i, d);
            if (TS.Tokens >= 3)
                acc2 = BiasedFinish(acc2, s2, wide, a2, nb, i, d);
            if (TS.Tokens >= 4)
                acc3 = BiasedFinish(acc3, s3, wide, a3, nb, i, d);
        }
        StoreTokens<TS>(y, yStride, acc0, acc1, acc2, acc3);
    }

    /// <summary>Weights 128h..128h+127 of a Q6_K superblock (unsigned 6-bit codes, bias left for later) against every token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6KHalf<TS>(byte* x, Vector128<sbyte> scales, int h, sbyte* a0, sbyte* a1, sbyte* a2, sbyte* a3,
        ref Vector256<int> s0, ref Vector256<int> s1, ref Vector256<int> s2, ref Vector256<int> s3) where TS : struct, ITileShape
    {
        var low = Vector256.Create((byte)0x0F);
        var top = Vector256.Create((byte)0x30);
        var ql1 = Vector256.Load(x + 64 * h);
        var ql2 = Vector256.Load(x + 64 * h + 32);
        var qh = Vector256.Load(x + 128 + 32 * h).AsUInt16();
        var c0 = (ql1 & low) | (Avx2.ShiftLeftLogical(qh, 4).AsByte() & top);
        var c1 = (ql2 & low) | (Avx2.ShiftLeftLogical(qh, 2).AsByte() & top);
        var c2 = (Avx2.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & low) | (qh.AsByte() & top);
        var c3 = (Avx2.ShiftRightLogical(ql2.AsUInt16(), 4).AsByte() & low) | (Avx2.ShiftRightLogical(qh, 2).AsByte() & top);
        if (TS.Tokens == 1)
        {
            // One token: two independent integer chains (s1 is otherwise unused), added at the end; exact either way.
            s0 = ScaledDot(c0, a0 + 128 * h, GroupScales(scales, 8 * h), s0);
            s1 = ScaledDot(c1, a0 + 128 * h + 32, GroupScales(scales, 8 * h + 2), s1);
            s0 = ScaledDot(c2, a0 + 128 * h + 64, GroupScales(scales, 8 * h + 4), s0);
            s1 = ScaledDot(c3, a0 + 128 * h + 96, GroupScales(scales, 8 * h + 6), s1);
            return;
        }
        Q6KGroup<TS>(c0, GroupScales(scales, 8 * h), a0, a1, a2, a3, 128 * h, ref s0, ref s1, ref s2, ref s3);
        Q6KGroup<TS>(c1, GroupScales(scales, 8 * h + 2), a0, a1, a2, a3, 128 * h + 32, ref s0, ref s1, ref s2, ref s3);
        Q6KGroup<TS>(c2, GroupScales(scales, 8 * h + 4), a0, a1, a2, a3, 128 * h + 64, ref s0, ref s1, ref s2, ref s3);
        Q6KGroup<TS>(c3, GroupScales(scales, 8 * h + 6), a0, a1, a2, a3, 128 * h + 96, ref s0, ref s1, ref s2, ref s3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6KGroup<TS>(Vector256<byte> codes, Vector256<short> scale, sbyte* a0, sbyte* a1, sbyte* a2, sbyte* a3, int o,
        ref Vector256<int> s0, ref Vector256<int> s1, ref Vector256<int> s2, ref Vector256<int> s3) where TS : struct, ITileShape
    {
        s0 = ScaledDot(codes, a0 + o, scale, s0);
        if (TS.Tokens >= 2)
            s1 = ScaledDot(codes, a1 + o, scale, s1);
        if (TS.Tokens >= 3)
            s2 = ScaledDot(codes, a2 + o, scale, s2);
        if (TS.Tokens >= 4)
            s3 = ScaledDot(codes, a3 + o, scale, s3);
    }

    /// <summary>16-bit lanes 0-7 = scales[g], lanes 8-15 = scales[g + 1] (the two 16-weight groups of a 32-code step).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> GroupScales(Vector128<sbyte> scales, int g)
    {
        var pick = Vector128.Create((byte)g, (byte)g, (byte)g, (byte)g, (byte)g, (byte)g, (byte)g, (byte)g,
            (byte)(g + 1), (byte)(g + 1), (byte)(g + 1), (byte)(g + 1), (byte)(g + 1), (byte)(g + 1), (byte)(g + 1), (byte)(g + 1));
        return Avx2.ConvertToVector256Int16(Ssse3.Shuffle(scales, pick.AsSByte()));
    }

    /// <summary>
    /// acc += (isum - 32 * (scales . group sums)) * (D_a D): the Q6_K codes were taken unsigned (biased by 32) and the
    /// bias comes off exactly in integers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> BiasedFinish(Vector256<float> acc, Vector256<int> isum, Vector256<short> scales, byte* act, int nb, int i, float d)
    {
        var bias = Avx2.ShiftLeftLogical(Avx2.MultiplyAddAdjacent(KSums(act, nb, i), scales), 5);
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum - bias), Vector256.Create(KScale(act, nb, i) * d), acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTokens<TS>(float* y, long yStride, Vector256<float> acc0, Vector256<float> acc1, Vector256<float> acc2, Vector256<float> acc3)
        where TS : struct, ITileShape
    {
        y[0] = Sum8(acc0);
        if (TS.Tokens >= 2)
            y[yStride] = Sum8(acc1);
        if (TS.Tokens >= 3)
            y[2 * yStride] = Sum8(acc2);
        if (TS.Tokens >= 4)
            y[3 * yStride] = Sum8(acc3);
    }
}
