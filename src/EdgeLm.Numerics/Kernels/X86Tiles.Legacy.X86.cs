using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// One 32-weight block format of the legacy family (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) as the tile kernel sees it: the
/// block unpacked to 32 code bytes in weight order, its scale (and offset), and the exact integer dot product of
/// those codes with 32 activation codes.
/// </summary>
internal unsafe interface ILegacyWeights
{
    /// <summary>Bytes per block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>
    /// Codes are stored unsigned with this bias (8 for Q4_0, 16 for Q5_0): the kernel computes sum (u - bias) a as
    /// sum u a plus a prepared correction of -bias * sum a. 0 when the codes need no correction.
    /// </summary>
    static abstract int Bias { get; }

    /// <summary>True for the offset formats (Q4_1, Q5_1): each block adds M * S, S = F16(d_a * sum a) from Q8_1.</summary>
    static abstract bool HasMin { get; }

    /// <summary>The 32 codes of a block, weight j in byte j.</summary>
    static abstract Vector256<byte> Codes(byte* block);

    /// <summary>Exact lanes of sum over the block of code * activation (bias included via <paramref name="correction"/>).</summary>
    static abstract Vector256<int> Dot(Vector256<byte> codes, Vector256<sbyte> activations, Vector256<int> correction);

    /// <summary>The block scale D (F16, widened). Every legacy block starts with it (the eight-row kernel reads it there).</summary>
    static abstract float Scale(byte* block);

    /// <summary>The block offset M (F16, widened, right after D); only for <see cref="HasMin"/> formats.</summary>
    static abstract float Min(byte* block);

    /// <summary>
    /// The codes as the panel kernel stores them: unsigned (Q8_0 with VNNI: w + 128, biased by 128), or signed
    /// Q8_0 codes for the sign trick without VNNI.
    /// </summary>
    static abstract Vector256<byte> PanelCodes(byte* block);

    /// <summary>log2 of the bias the panel codes carry (3 for Q4_0, 4 for Q5_0, 7 for Q8_0 with VNNI), or -1 for none.</summary>
    static abstract int PanelBiasShift { get; }

    /// <summary>How many 4-byte steps of vpmaddubsw pairs can be summed in 16 bits without overflow (8, 4, or 1).</summary>
    static abstract int PanelGroup { get; }

    /// <summary>True for the packed 4/5-bit formats, whose decode kernel takes two rows per vector (<see cref="NibblePair"/>).</summary>
    static abstract bool IsNibbleFormat { get; }

    /// <summary>
    /// The unsigned codes of one block of two rows: <paramref name="low"/> holds codes 0-15 of row 0 then codes 0-15
    /// of row 1, <paramref name="high"/> codes 16-31 of each.
    /// </summary>
    static abstract void NibblePair(byte* block0, byte* block1, out Vector256<byte> low, out Vector256<byte> high);
}

/// <summary>
/// The legacy-format tile kernels. Prepared activation row of nb blocks (Q8_0 or Q8_1 codes from the activation
/// quantizer): [nb x 32 code bytes][nb x 8 int32 corrections][nb floats D][nb floats S][nb int32 code sums],
/// padded to 64 bytes.
/// <para>Arithmetic of every output, whichever kernel computes it: per block in order, the exact integer
/// isum = sum (code - bias) * activation, then <c>acc = fma(isum, D_w * D_a, acc)</c>, and for Q4_1/Q5_1
/// <c>acc = fma(M, S, acc)</c>; the result is acc. (llama.cpp's repacked x86 kernels for Q4_0 do the same.)</para>
/// <para>Kernels: one row (lanes over the block's codes, summed to the exact isum); eight rows for one token
/// (the same lanes, eight rows' sums packed into one vector so the float steps run once per eight rows); and the
/// panel for several tokens: eight rows' codes transposed once into a per-thread panel (lane r = row r, four codes
/// per 32-bit lane) so that each token's four activation bytes are broadcast and every vpdpbusd serves eight rows.
/// </para>
/// </summary>
internal static unsafe partial class X86Tiles
{
    private const int PanelBlockBytes = 8 * 32 + 8 * sizeof(float) + 8 * sizeof(float);

    private static TileKernels LegacySet<TW>() where TW : struct, ILegacyWeights => new()
    {
        PreparedLayout = 100 * (TW.HasMin ? 1 : 0) + TW.Bias, // Q8_0 / Q8_1 codes, and the correction the bias asks for
        PreparedRowBytes = &LegacyRowBytes,
        Prepare = &PrepareLegacy<TW>,
        PrepareFromActivationFormat = &ConvertLegacy<TW>,
        Tile1x1 = &LegacyRows<TW, Tile1x1>,
        Tile2x1 = &LegacyRows<TW, Tile2x1>,
        Tile1x2 = &LegacyRows<TW, Tile1x2>,
        Tile1x3 = &LegacyRows<TW, Tile1x3>,
        Tile1x4 = &LegacyRows<TW, Tile1x4>,
        Rows8 = &LegacyRows8<TW>,
        PanelBytes = HasLegacyPanel16<TW>() ? &LegacyPanel16Bytes : &LegacyPanelBytes,
        Panel = &LegacyPanel<TW>,
        Panel16 = HasLegacyPanel16<TW>() ? &LegacyPanel16<TW> : null,
    };

    private static int LegacyRowBytes(int columns) => AlignRow(columns / 32 * 76);

    private static int LegacyPanelBytes(int columns) => columns / 32 * PanelBlockBytes;

    /// <summary>Quantizes a float row the way VecDot.QuantizeActivations does, a chunk of blocks at a time, and lays it out.</summary>
    [SkipLocalsInit]
    private static void PrepareLegacy<TW>(float* x, int columns, byte* dst) where TW : struct, ILegacyWeights
    {
        const int Chunk = 64;
        bool q81 = TW.HasMin;
        int blockBytes = q81 ? BlockQ8_1.ByteSize : BlockQ8_0.ByteSize;
        byte* tmp = stackalloc byte[Chunk * BlockQ8_1.ByteSize];
        int nb = columns / 32;
        for (int first = 0; first < nb; first += Chunk)
        {
            int count = Math.Min(Chunk, nb - first);
            var src = new ReadOnlySpan<float>(x + first * 32, count * 32);
            var blocks = new Span<byte>(tmp, count * blockBytes);
            if (q81)
                BlockQ8_1.QuantizeActivations(src, blocks);
            else
                BlockQ8_0.QuantizeActivations(src, blocks);
            ConvertLegacyBlocks<TW>(tmp, first, count, nb, dst);
        }
    }

    private static void ConvertLegacy<TW>(byte* src, int columns, byte* dst) where TW : struct, ILegacyWeights =>
        ConvertLegacyBlocks<TW>(src, 0, columns / 32, columns / 32, dst);

    /// <summary>Lays out <paramref name="count"/> Q8_0 / Q8_1 blocks as blocks first.. of a prepared row of <paramref name="nb"/> blocks.</summary>
    private static void ConvertLegacyBlocks<TW>(byte* src, int first, int count, int nb, byte* dst) where TW : struct, ILegacyWeights
    {
        bool q81 = TW.HasMin;
        int blockBytes = q81 ? BlockQ8_1.ByteSize : BlockQ8_0.ByteSize;
        int codesAt = q81 ? 4 : 2;
        var corrections = (int*)(dst + nb * 32);
        var scales = (float*)(dst + nb * 64);
        var sums = scales + nb;
        var codeSums = (int*)(sums + nb);
        for (int i = 0; i < count; i++)
        {
            byte* block = src + i * blockBytes;
            int b = first + i;
            var codes = Vector256.Load((sbyte*)(block + codesAt));
            codes.Store((sbyte*)dst + b * 32);
            // lane l: sum of codes 4l..4l+3 (exact: |sum| <= 4 * 128)
            var laneSums = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.Create((byte)1), codes), Vector256.Create((short)1));
            (TW.Bias != 0 ? laneSums * -TW.Bias : Vector256<int>.Zero).Store(corrections + b * 8);
            codeSums[b] = Vector256.Sum(laneSums);
            scales[b] = HalfConvert.ToSingle(*(ushort*)block);
            sums[b] = q81 ? HalfConvert.ToSingle(*(ushort*)(block + 2)) : 0;
        }
    }

    /// <summary>Exact integer lanes of one block of one row against one prepared token (lanes over the codes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> LegacyLanes<TW>(byte* block, byte* act, int b, long corrAt) where TW : struct, ILegacyWeights
    {
        var x = Vector256.Load((sbyte*)act + b * 32);
        var correction = TW.Bias != 0 ? Vector256.Load((int*)(act + corrAt) + b * 8) : Vector256<int>.Zero;
        return TW.Dot(TW.Codes(block), x, correction);
    }

    /// <summary>One output: block by block, the exact integer sum, then acc = fma(isum, D_w * D_a, acc) (+ fma(M, S)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LegacyRow1<TW>(byte* w, byte* a, int nb) where TW : struct, ILegacyWeights
    {
        long corrAt = (long)nb * 32;
        var scales = (float*)(a + (long)nb * 64);
        var sums = scales + nb;
        float acc = 0;
        for (int b = 0; b < nb; b++)
        {
            byte* block = w + (long)b * TW.BlockBytes;
            int isum = SumLanes(LegacyLanes<TW>(block, a, b, corrAt));
            acc = MathF.FusedMultiplyAdd(isum, TW.Scale(block) * scales[b], acc);
            if (TW.HasMin)
                acc = MathF.FusedMultiplyAdd(TW.Min(block), sums[b], acc);
        }
        return acc;
    }

    /// <summary>Rows x Tokens outputs one at a time (remainders next to the eight-row kernels); see <see cref="TileKernels"/>.</summary>
    private static void LegacyRows<TW, TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns)
        where TW : struct, ILegacyWeights where TS : struct, ITileShape
    {
        int nb = columns / 32;
        for (int r = 0; r < TS.Rows; r++)
        {
            for (int t = 0; t < TS.Tokens; t++)
                y[r + t * yStride] = LegacyRow1<TW>(w + r * wStride, a + t * aStride, nb);
        }
    }

    /// <summary>
    /// Eight rows against one token, writing y[0..7]. Only each block's exact integer sums matter for the result, so
    /// the inside is free: the packed 4/5-bit formats take two rows per vector (row r's codes 0-15 beside row r+1's,
    /// against the activations' codes 0-15 in both halves; then codes 16-31), the eight rows' sums are packed with
    /// three horizontal adds into the lane order (0, 2, 4, 6, 1, 3, 5, 7) and the bias correction, the same for
    /// every row, is added once; Q8_0 takes one row per vector. Then the float steps run once for all eight rows.
    /// </summary>
    private static void LegacyRows8<TW>(byte* w, long wStride, byte* a, float* y, int columns) where TW : struct, ILegacyWeights
    {
        int nb = columns / 32;
        long corrAt = (long)nb * 32;
        var actScales = (float*)(a + (long)nb * 64);
        var actSums = actScales + nb;
        var codeSums = (int*)(actSums + nb);
        // Lane l of the packed sums holds row (0, 2, 4, 6, 1, 3, 5, 7)[l] for the nibble formats, row l for Q8_0.
        long s1 = TW.IsNibbleFormat ? 2 * wStride : wStride, s2 = TW.IsNibbleFormat ? 4 * wStride : 2 * wStride;
        long s3 = TW.IsNibbleFormat ? 6 * wStride : 3 * wStride, s4 = TW.IsNibbleFormat ? wStride : 4 * wStride;
        long s5 = TW.IsNibbleFormat ? 3 * wStride : 5 * wStride, s6 = TW.IsNibbleFormat ? 5 * wStride : 6 * wStride;
        long s7 = 7 * wStride;
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* block = w + (long)b * TW.BlockBytes;
            // The next eight rows, as far into them as this block is into these (8 blocks = 1 to 4 lines).
            PrefetchLines(w + 8 * wStride + (long)b * 8 * TW.BlockBytes, (8 * TW.BlockBytes + 63) / 64);
            Vector256<int> isum;
            if (TW.IsNibbleFormat)
            {
                var x = Vector256.Load((sbyte*)a + b * 32);
                var xLow = Avx2.Permute2x128(x, x, 0x00);
                var xHigh = Avx2.Permute2x128(x, x, 0x11);
                var p01 = NibblePairLanes<TW>(block, block + wStride, xLow, xHigh);
                var p23 = NibblePairLanes<TW>(block + 2 * wStride, block + 3 * wStride, xLow, xHigh);
                var p45 = NibblePairLanes<TW>(block + 4 * wStride, block + 5 * wStride, xLow, xHigh);
                var p67 = NibblePairLanes<TW>(block + 6 * wStride, block + 7 * wStride, xLow, xHigh);
                isum = Avx2.HorizontalAdd(Avx2.HorizontalAdd(p01, p23), Avx2.HorizontalAdd(p45, p67));
                if (TW.Bias != 0)
                    isum -= Vector256.Create(codeSums[b] * TW.Bias);
            }
            else
            {
                isum = Pack8(
                    LegacyLanes<TW>(block, a, b, corrAt), LegacyLanes<TW>(block + wStride, a, b, corrAt),
                    LegacyLanes<TW>(block + 2 * wStride, a, b, corrAt), LegacyLanes<TW>(block + 3 * wStride, a, b, corrAt),
                    LegacyLanes<TW>(block + 4 * wStride, a, b, corrAt), LegacyLanes<TW>(block + 5 * wStride, a, b, corrAt),
                    LegacyLanes<TW>(block + 6 * wStride, a, b, corrAt), LegacyLanes<TW>(block + 7 * wStride, a, b, corrAt));
            }
            var heads = BlockHeads(block, s1, s2, s3, s4, s5, s6, s7); // in lane order
            var scale = HeadScales(heads) * Vector256.Create(actScales[b]);
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), scale, acc);
            if (TW.HasMin)
                acc = Fma.MultiplyAdd(HeadMins(heads), Vector256.Create(actSums[b]), acc);
        }
        if (TW.IsNibbleFormat)
            acc = Avx2.PermuteVar8x32(acc, Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)); // back to row order
        acc.Store(y);
    }

    /// <summary>
    /// The heads of eight blocks, at <paramref name="block"/> and the seven offsets from it, one per 32-bit lane: D in
    /// the low half, M (Q4_1, Q5_1) in the high half. The kernels widen them in vector registers (<see cref="HeadScales"/>,
    /// <see cref="HeadMins"/>); the 256 KB half-to-float table, read eight times a block, would push the streamed
    /// weights out of L1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> BlockHeads(byte* block, long o1, long o2, long o3, long o4, long o5, long o6, long o7) =>
        Vector256.Create(*(uint*)block, *(uint*)(block + o1), *(uint*)(block + o2), *(uint*)(block + o3),
            *(uint*)(block + o4), *(uint*)(block + o5), *(uint*)(block + o6), *(uint*)(block + o7));

    /// <summary>The eight rows' heads at <paramref name="block"/>, <paramref name="wStride"/> apart, in row order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> RowHeads(byte* block, long wStride) =>
        BlockHeads(block, wStride, 2 * wStride, 3 * wStride, 4 * wStride, 5 * wStride, 6 * wStride, 7 * wStride);

    /// <summary>The scales D of <see cref="BlockHeads"/>, widened exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HeadScales(Vector256<uint> heads) => HalfConvert.Widen(heads & Vector256.Create(0xFFFFu));

    /// <summary>The offsets M of <see cref="BlockHeads"/> (Q4_1, Q5_1), widened exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HeadMins(Vector256<uint> heads) => HalfConvert.Widen(heads >>> 16);

    /// <summary>Exact lanes of one block of two rows: lanes 0-3 sum row 0's products, lanes 4-7 row 1's (no bias taken off).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> NibblePairLanes<TW>(byte* block0, byte* block1, Vector256<sbyte> xLow, Vector256<sbyte> xHigh)
        where TW : struct, ILegacyWeights
    {
        TW.NibblePair(block0, block1, out var low, out var high);
        return DotBytes(high, xHigh, DotBytes(low, xLow, Vector256<int>.Zero));
    }

    /// <summary>
    /// Eight rows against <paramref name="tokens"/> tokens: the rows' codes transposed into <paramref name="panel"/>
    /// (<see cref="TileKernels.PanelBytes"/>), then every token, four at a time, against the panel. Writes
    /// y[t * yStride + r] for r &lt; 8, t &lt; tokens.
    /// </summary>
    private static void LegacyPanel<TW>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns, int tokens, byte* panel)
        where TW : struct, ILegacyWeights
    {
        int nb = columns / 32;
        for (int b = 0; b < nb; b++)
        {
            byte* block = w + (long)b * TW.BlockBytes;
            byte* p = panel + (long)b * PanelBlockBytes;
            Transpose8(
                TW.PanelCodes(block), TW.PanelCodes(block + wStride), TW.PanelCodes(block + 2 * wStride), TW.PanelCodes(block + 3 * wStride),
                TW.PanelCodes(block + 4 * wStride), TW.PanelCodes(block + 5 * wStride), TW.PanelCodes(block + 6 * wStride), TW.PanelCodes(block + 7 * wStride),
                (int*)p);
            var heads = RowHeads(block, wStride);
            HeadScales(heads).Store((float*)(p + 256));
            (TW.HasMin ? HeadMins(heads) : Vector256<float>.Zero).Store((float*)(p + 288));
        }
        int t = 0;
        for (; t + 4 <= tokens; t += 4)
            LegacyPanelTokens<TW, Tile1x4>(panel, nb, a + t * aStride, aStride, y + t * yStride, yStride);
        switch (tokens - t)
        {
            case 3: LegacyPanelTokens<TW, Tile1x3>(panel, nb, a + t * aStride, aStride, y + t * yStride, yStride); break;
            case 2: LegacyPanelTokens<TW, Tile1x2>(panel, nb, a + t * aStride, aStride, y + t * yStride, yStride); break;
            case 1: LegacyPanelTokens<TW, Tile1x1>(panel, nb, a + t * aStride, aStride, y + t * yStride, yStride); break;
        }
    }

    /// <summary>1-4 tokens (TS.Tokens) against a built panel of eight rows.</summary>
    [SkipLocalsInit]
    private static void LegacyPanelTokens<TW, TS>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride)
        where TW : struct, ILegacyWeights where TS : struct, ITileShape
    {
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        long scalesAt = (long)nb * 64, sumsAt = (long)nb * 68, codeSumsAt = (long)nb * 72;
        for (int b = 0; b < nb; b++)
        {
            byte* p = panel + (long)b * PanelBlockBytes;
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            if (AvxVnni.IsSupported)
            {
                for (int m = 0; m < 8; m++)
                {
                    var wm = Vector256.Load(p + 32 * m);
                    int o = 32 * b + 4 * m;
                    i0 = AvxVnni.MultiplyWideningAndAdd(i0, wm, Broadcast4(a + o));
                    if (TS.Tokens >= 2)
                        i1 = AvxVnni.MultiplyWideningAndAdd(i1, wm, Broadcast4(a1 + o));
                    if (TS.Tokens >= 3)
                        i2 = AvxVnni.MultiplyWideningAndAdd(i2, wm, Broadcast4(a2 + o));
                    if (TS.Tokens >= 4)
                        i3 = AvxVnni.MultiplyWideningAndAdd(i3, wm, Broadcast4(a3 + o));
                }
            }
            else
            {
                for (int g = 0; g < 8; g += TW.PanelGroup)
                {
                    Vector256<short> h0 = default, h1 = default, h2 = default, h3 = default;
                    for (int m = g; m < g + TW.PanelGroup; m++)
                    {
                        var wm = Vector256.Load(p + 32 * m);
                        int o = 32 * b + 4 * m;
                        h0 += PairProducts<TW>(wm, Broadcast4(a + o));
                        if (TS.Tokens >= 2)
                            h1 += PairProducts<TW>(wm, Broadcast4(a1 + o));
                        if (TS.Tokens >= 3)
                            h2 += PairProducts<TW>(wm, Broadcast4(a2 + o));
                        if (TS.Tokens >= 4)
                            h3 += PairProducts<TW>(wm, Broadcast4(a3 + o));
                    }
                    var one = Vector256.Create((short)1);
                    i0 += Avx2.MultiplyAddAdjacent(h0, one);
                    if (TS.Tokens >= 2)
                        i1 += Avx2.MultiplyAddAdjacent(h1, one);
                    if (TS.Tokens >= 3)
                        i2 += Avx2.MultiplyAddAdjacent(h2, one);
                    if (TS.Tokens >= 4)
                        i3 += Avx2.MultiplyAddAdjacent(h3, one);
                }
            }
            var scales = Vector256.Load((float*)(p + 256));
            var mins = TW.HasMin ? Vector256.Load((float*)(p + 288)) : default;
            acc0 = PanelFinish<TW>(acc0, i0, scales, mins, a, b, scalesAt, sumsAt, codeSumsAt);
            if (TS.Tokens >= 2)
                acc1 = PanelFinish<TW>(acc1, i1, scales, mins, a1, b, scalesAt, sumsAt, codeSumsAt);
            if (TS.Tokens >= 3)
                acc2 = PanelFinish<TW>(acc2, i2, scales, mins, a2, b, scalesAt, sumsAt, codeSumsAt);
            if (TS.Tokens >= 4)
                acc3 = PanelFinish<TW>(acc3, i3, scales, mins, a3, b, scalesAt, sumsAt, codeSumsAt);
        }
        acc0.Store(y);
        if (TS.Tokens >= 2)
            acc1.Store(y + yStride);
        if (TS.Tokens >= 3)
            acc2.Store(y + 2 * yStride);
        if (TS.Tokens >= 4)
            acc3.Store(y + 3 * yStride);
    }

    /// <summary>Without VNNI: the 16-bit pair sums of one 4-byte step (sign trick for signed Q8_0 codes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> PairProducts<TW>(Vector256<byte> codes, Vector256<sbyte> act) where TW : struct, ILegacyWeights =>
        TW.PanelBiasShift < 0 && TW.PanelGroup == 1
            ? Avx2.MultiplyAddAdjacent(Avx2.Abs(codes.AsSByte()), Avx2.Sign(act, codes.AsSByte()))
            : Avx2.MultiplyAddAdjacent(codes, act);

    /// <summary>Takes the bias off the panel sums, then acc = fma(isum, D_w * D_a, acc) (+ fma(M, S, acc)) for eight rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PanelFinish<TW>(Vector256<float> acc, Vector256<int> isum, Vector256<float> scales, Vector256<float> mins,
        byte* act, int b, long scalesAt, long sumsAt, long codeSumsAt) where TW : struct, ILegacyWeights
    {
        if (TW.PanelBiasShift >= 0)
            isum -= Vector256.Create(((int*)(act + codeSumsAt))[b] << TW.PanelBiasShift);
        acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), scales * Vector256.Create(((float*)(act + scalesAt))[b]), acc);
        if (TW.HasMin)
            acc = Fma.MultiplyAdd(mins, Vector256.Create(((float*)(act + sumsAt))[b]), acc);
        return acc;
    }

    /// <summary>Four activation bytes broadcast to every 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Broadcast4(byte* p) => Vector256.Create(Unsafe.ReadUnaligned<int>(p)).AsSByte();

    /// <summary>The exact sum of eight 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SumLanes(Vector256<int> v)
    {
        var t = Sse2.Add(v.GetLower(), v.GetUpper());
        t = Sse2.Add(t, Sse2.Shuffle(t, 0b_01_00_11_10));
        return Sse2.Add(t, Sse2.Shuffle(t, 0b_10_11_00_01)).ToScalar();
    }

    /// <summary>Lane r of the result = the sum of all eight lanes of p_r (exact integers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Pack8(Vector256<int> p0, Vector256<int> p1, Vector256<int> p2, Vector256<int> p3,
        Vector256<int> p4, Vector256<int> p5, Vector256<int> p6, Vector256<int> p7)
    {
        var a = Avx2.HorizontalAdd(p0, p1);
        var b = Avx2.HorizontalAdd(p2, p3);
        var c = Avx2.HorizontalAdd(p4, p5);
        var d = Avx2.HorizontalAdd(p6, p7);
        var low = Avx2.HorizontalAdd(a, b);  // [p0..p3 over lanes 0-3 | p0..p3 over lanes 4-7]
        var high = Avx2.HorizontalAdd(c, d); // the same for p4..p7
        return Avx2.Permute2x128(low, high, 0x20) + Avx2.Permute2x128(low, high, 0x31);
    }

    /// <summary>
    /// Transposes 8 x 8 32-bit lanes: lane r of output m = lane m of input r. Writes output m to
    /// <paramref name="dst"/> + m * <paramref name="stride"/> ints.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8(Vector256<byte> c0, Vector256<byte> c1, Vector256<byte> c2, Vector256<byte> c3,
        Vector256<byte> c4, Vector256<byte> c5, Vector256<byte> c6, Vector256<byte> c7, int* dst, int stride = 8)
    {
        var t0 = Avx2.UnpackLow(c0.AsInt32(), c1.AsInt32());
        var t1 = Avx2.UnpackHigh(c0.AsInt32(), c1.AsInt32());
        var t2 = Avx2.UnpackLow(c2.AsInt32(), c3.AsInt32());
        var t3 = Avx2.UnpackHigh(c2.AsInt32(), c3.AsInt32());
        var t4 = Avx2.UnpackLow(c4.AsInt32(), c5.AsInt32());
        var t5 = Avx2.UnpackHigh(c4.AsInt32(), c5.AsInt32());
        var t6 = Avx2.UnpackLow(c6.AsInt32(), c7.AsInt32());
        var t7 = Avx2.UnpackHigh(c6.AsInt32(), c7.AsInt32());
        var u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32();
        var u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
        var u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32();
        var u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
        var u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()).AsInt32();
        var u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64()).AsInt32();
        var u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()).AsInt32();
        var u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64()).AsInt32();
        Avx2.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx2.Permute2x128(u1, u5, 0x20).Store(dst + stride);
        Avx2.Permute2x128(u2, u6, 0x20).Store(dst + 2 * stride);
        Avx2.Permute2x128(u3, u7, 0x20).Store(dst + 3 * stride);
        Avx2.Permute2x128(u0, u4, 0x31).Store(dst + 4 * stride);
        Avx2.Permute2x128(u1, u5, 0x31).Store(dst + 5 * stride);
        Avx2.Permute2x128(u2, u6, 0x31).Store(dst + 6 * stride);
        Avx2.Permute2x128(u3, u7, 0x31).Store(dst + 7 * stride);
    }

    /// <summary>16 packed nibbles to 32 code bytes: low nibbles (weights 0-15), then high nibbles (weights 16-31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Nibbles(byte* qs)
    {
        var raw = Vector128.Load(qs);
        var high = Sse2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte();
        return Vector256.Create(raw, high) & Vector256.Create((byte)0x0F);
    }

    /// <summary>Two rows' 16 packed bytes side by side: low nibbles (codes 0-15) and high nibbles (codes 16-31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NibblesOfTwo(byte* qs0, byte* qs1, out Vector256<byte> low, out Vector256<byte> high)
    {
        var v = Vector256.Create(Vector128.Load(qs0), Vector128.Load(qs1));
        var mask = Vector256.Create((byte)0x0F);
        low = v & mask;
        high = Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask;
    }

    /// <summary>Fifth bits of two rows: byte j of each half is 0x10 when bit <paramref name="from"/> + j of that row's qh is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> FifthBitsOfTwo(uint qh0, uint qh1, int from)
    {
        var both = Vector256.Create(Vector128.Create(qh0), Vector128.Create(qh1)).AsByte();
        byte lo = (byte)(from / 8), hi = (byte)(from / 8 + 1);
        var spread = Avx2.Shuffle(both, Vector256.Create(lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi,
            lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi));
        var bit = Vector256.Create(0x8040201008040201UL).AsByte();
        return Vector256.Equals(spread & bit, bit) & Vector256.Create((byte)0x10);
    }

    /// <summary>Byte j is 0x10 when bit j of <paramref name="qh"/> is set, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> FifthBits(uint qh)
    {
        var spread = Avx2.Shuffle(Vector256.Create(qh).AsByte(), Vector256.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        var bit = Vector256.Create(0x8040201008040201UL).AsByte();
        return Vector256.Equals(spread & bit, bit) & Vector256.Create((byte)0x10);
    }

    private struct Q4_0Weights : ILegacyWeights
    {
        public static int BlockBytes => BlockQ4_0.ByteSize;
        public static int Bias => 8;
        public static bool HasMin => false;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* block) => Nibbles(block + 2);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<byte> codes, Vector256<sbyte> act, Vector256<int> correction) => DotBytes(codes, act, correction);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Scale(byte* block) => HalfConvert.ToSingle(*(ushort*)block);
        public static float Min(byte* block) => 0;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelCodes(byte* block) => Codes(block);
        public static int PanelBiasShift => 3;
        public static int PanelGroup => 8;
        public static bool IsNibbleFormat => true;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void NibblePair(byte* block0, byte* block1, out Vector256<byte> low, out Vector256<byte> high)
                    => NibblesOfTwo(block0 + 2, block1 + 2, out low, out high);
    }

    private struct Q4_1Weights : ILegacyWeights
    {
        public static int BlockBytes => BlockQ4_1.ByteSize;
        public static int Bias => 0;
        public static bool HasMin => true;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* block) => Nibbles(block + 4);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<byte> codes, Vector256<sbyte> act, Vector256<int> correction) => DotBytes(codes, act, correction);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Scale(byte* block) => HalfConvert.ToSingle(*(ushort*)block);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Min(byte* block) => HalfConvert.ToSingle(*(ushort*)(block + 2));
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelCodes(byte* block) => Codes(block);
        public static int PanelBiasShift => -1;
        public static int PanelGroup => 8;
        public static bool IsNibbleFormat => true;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void NibblePair(byte* block0, byte* block1, out Vector256<byte> low, out Vector256<byte> high)
                    => NibblesOfTwo(block0 + 4, block1 + 4, out low, out high);
    }

    private struct Q5_0Weights : ILegacyWeights
    {
        public static int BlockBytes => BlockQ5_0.ByteSize;
        public static int Bias => 16;
        public static bool HasMin => false;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* block) => Nibbles(block + 6) | FifthBits(Unsafe.ReadUnaligned<uint>(block + 2));
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<byte> codes, Vector256<sbyte> act, Vector256<int> correction) => DotBytes(codes, act, correction);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Scale(byte* block) => HalfConvert.ToSingle(*(ushort*)block);
        public static float Min(byte* block) => 0;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelCodes(byte* block) => Codes(block);
        public static int PanelBiasShift => 4;
        public static int PanelGroup => 4;
        public static bool IsNibbleFormat => true;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void NibblePair(byte* block0, byte* block1, out Vector256<byte> low, out Vector256<byte> high)
                {
            NibblesOfTwo(block0 + 6, block1 + 6, out low, out high);
            uint qh0 = Unsafe.ReadUnaligned<uint>(block0 + 2), qh1 = Unsafe.ReadUnaligned<uint>(block1 + 2);
            low |= FifthBitsOfTwo(qh0, qh1, 0);
            high |= FifthBitsOfTwo(qh0, qh1, 16);
        }
    }

    private struct Q5_1Weights : ILegacyWeights
    {
        public static int BlockBytes => BlockQ5_1.ByteSize;
        public static int Bias => 0;
        public static bool HasMin => true;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* block) => Nibbles(block + 8) | FifthBits(Unsafe.ReadUnaligned<uint>(block + 4));
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<byte> codes, Vector256<sbyte> act, Vector256<int> correction) => DotBytes(codes, act, correction);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Scale(byte* block) => HalfConvert.ToSingle(*(ushort*)block);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Min(byte* block) => HalfConvert.ToSingle(*(ushort*)(block + 2));
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelCodes(byte* block) => Codes(block);
        public static int PanelBiasShift => -1;
        public static int PanelGroup => 4;
        public static bool IsNibbleFormat => true;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void NibblePair(byte* block0, byte* block1, out Vector256<byte> low, out Vector256<byte> high)
                {
            NibblesOfTwo(block0 + 8, block1 + 8, out low, out high);
            uint qh0 = Unsafe.ReadUnaligned<uint>(block0 + 4), qh1 = Unsafe.ReadUnaligned<uint>(block1 + 4);
            low |= FifthBitsOfTwo(qh0, qh1, 0);
            high |= FifthBitsOfTwo(qh0, qh1, 16);
        }
    }

    /// <summary>Signed codes: |w| times the activation with w's sign (|w| &lt;= 128 and |a| &lt;= 127 keep pairs in 16 bits).</summary>
    private struct Q8_0Weights : ILegacyWeights
    {
        public static int BlockBytes => BlockQ8_0.ByteSize;
        public static int Bias => 0;
        public static bool HasMin => false;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* block) => Vector256.Load(block + 2);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<byte> codes, Vector256<sbyte> act, Vector256<int> correction) =>
            DotBytes(Avx2.Abs(codes.AsSByte()), Avx2.Sign(act, codes.AsSByte()), correction);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Scale(byte* block) => HalfConvert.ToSingle(*(ushort*)block);
        public static float Min(byte* block) => 0;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelCodes(byte* block) => AvxVnni.IsSupported ? Codes(block) ^ Vector256.Create((byte)0x80) : Codes(block);
        public static int PanelBiasShift => AvxVnni.IsSupported ? 7 : -1;
        public static int PanelGroup => 1;
        public static bool IsNibbleFormat => false;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void NibblePair(byte* block0, byte* block1, out Vector256<byte> low, out Vector256<byte> high)
                    => throw new NotSupportedException("Q8_0 codes are whole bytes.");
    }
}
