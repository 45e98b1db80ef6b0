using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// The AVX-512 k-quant panels (Q4_K, Q5_K and Q6_K; this text for Q4_K, and Q5_K's panel is Q4_K's with its codes
/// 0-31 from <see cref="Q5Codes"/>): sixteen rows against several tokens, one 512-bit lane per row. It computes, row for row,
/// the very numbers of <see cref="Q4K{TS}"/>: per superblock the eight exact integer lanes (lane l = sum over the
/// sub-blocks j of scale_j * codes 4l..4l+3 of j times their activations) and the four exact min lanes, then the
/// same fused multiply-adds into eight + four float lanes, summed at the end in <see cref="Sum8"/> / <see cref="Sum4"/>
/// order. Only where the numbers live changes (lane = row, one vector per tile lane), so outputs are bit-identical.
/// </summary>
/// <remarks>
/// Panel of one superblock (<see cref="Q4KPanelBlockBytes"/>): [j 0-7][l 0-7] 64 bytes (lane r = codes 4l..4l+3 of
/// sub-block j of row r), then 8 x 16 int32 scale pairs (scale_j in both words, for vpmaddwd), 4 x 16 int32 min pairs
/// (mins 2k and 2k + 1), 16 floats D, 16 floats DMin. The tile kernels spend most of their time per row and token
/// outside the integer products (scale unpacking, the float steps); here those run once per sixteen rows.
/// </remarks>
internal static unsafe partial class X86Tiles
{
    internal const int Q4KPanelBlockBytes = 64 * 64 + 8 * 64 + 4 * 64 + 64 + 64;
    private const int Q4KScalesAt = 64 * 64, Q4KMinsAt = Q4KScalesAt + 8 * 64, Q4KDAt = Q4KMinsAt + 4 * 64, Q4KDMinAt = Q4KDAt + 64;

    /// <summary>
    /// Fewer tokens than this take the tile kernels: building the panel costs about what three or four tokens save
    /// (measured, 2048 x 768: the panel was 10% faster at 4 tokens, 25% at 16).
    /// </summary>
    private const int Q4KPanelMinTokens = 4;

    /// <summary>The same for Q6_K, whose tile kernel is cheaper: the panel broke even at about 16 tokens, 1.5x faster at 128.</summary>
    private const int Q6KPanelMinTokens = 16;

    private static int Q4KPanelBytes(int columns) => columns / KBlock * Q4KPanelBlockBytes;

    /// <summary>A k-quant format's sixteen-row panel: when it pays, its tile kernels, its panel build and its token kernels.</summary>
    private interface IKQuantPanel
    {
        /// <summary>Fewer tokens than this take the tile kernels.</summary>
        static abstract int MinTokens { get; }

        /// <summary>Bytes of one weight superblock.</summary>
        static abstract int WeightBlockBytes { get; }

        /// <summary>Bytes of one panel block (one superblock of sixteen rows).</summary>
        static abstract int PanelBlockBytes { get; }

        static abstract void Tile<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape;

        static abstract void Build(byte* x, long wStride, byte* p);

        static abstract void Tokens<TS>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride) where TS : struct, ITileShape;
    }

    private readonly struct Q45KPanel<TF> : IKQuantPanel where TF : struct, IQ45Codes
    {
        public static int MinTokens => Q4KPanelMinTokens;
        public static int WeightBlockBytes => TF.BlockBytes;
        public static int PanelBlockBytes => Q4KPanelBlockBytes;
        public static void Tile<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape =>
            Q45K<TS, TF>(w, wStride, a, aStride, y, yStride, columns);
        public static void Build(byte* x, long wStride, byte* p) => BuildQ45KPanel<TF>(x, wStride, p);
        public static void Tokens<TS>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride) where TS : struct, ITileShape =>
            Q4KPanelTokens<TS>(panel, nb, a, aStride, y, yStride);
    }

    private readonly struct Q6KPanel : IKQuantPanel
    {
        public static int MinTokens => Q6KPanelMinTokens;
        public static int WeightBlockBytes => BlockQ6_K.ByteSize;
        public static int PanelBlockBytes => Q6KPanelBlockBytes;
        public static void Tile<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape =>
            Q6K<TS>(w, wStride, a, aStride, y, yStride, columns);
        public static void Build(byte* x, long wStride, byte* p) => BuildQ6KPanel(x, wStride, p);
        public static void Tokens<TS>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride) where TS : struct, ITileShape =>
            Q6KPanelTokens<TS>(panel, nb, a, aStride, y, yStride);
    }

    /// <summary>
    /// Sixteen rows of a k-quant format against <paramref name="tokens"/> tokens, writing y[t * yStride + r] for r &lt; 16:
    /// below TP.MinTokens row by row with the tile kernels, otherwise through a panel built once for all tokens.
    /// </summary>
    private static void KQuantPanel16<TP>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns, int tokens, byte* panel)
        where TP : struct, IKQuantPanel
    {
        if (tokens < TP.MinTokens)
        {
            for (int r = 0; r < 16; r++)
            {
                for (int t = 0; t < tokens; t += 4)
                {
                    byte* wr = w + r * wStride, at = a + t * aStride;
                    float* yt = y + t * yStride + r;
                    switch (Math.Min(4, tokens - t))
                    {
                        case 4: TP.Tile<Tile1x4>(wr, wStride, at, aStride, yt, yStride, columns); break;
                        case 3: TP.Tile<Tile1x3>(wr, wStride, at, aStride, yt, yStride, columns); break;
                        case 2: TP.Tile<Tile1x2>(wr, wStride, at, aStride, yt, yStride, columns); break;
                        default: TP.Tile<Tile1x1>(wr, wStride, at, aStride, yt, yStride, columns); break;
                    }
                }
            }
            return;
        }
        int nb = columns / KBlock;
        for (int i = 0; i < nb; i++)
            TP.Build(w + (long)i * TP.WeightBlockBytes, wStride, panel + (long)i * TP.PanelBlockBytes);
        int t0 = 0;
        for (; t0 + 4 <= tokens; t0 += 4)
            TP.Tokens<Tile1x4>(panel, nb, a + t0 * aStride, aStride, y + t0 * yStride, yStride);
        switch (tokens - t0)
        {
            case 3: TP.Tokens<Tile1x3>(panel, nb, a + t0 * aStride, aStride, y + t0 * yStride, yStride); break;
            case 2: TP.Tokens<Tile1x2>(panel, nb, a + t0 * aStride, aStride, y + t0 * yStride, yStride); break;
            case 1: TP.Tokens<Tile1x1>(panel, nb, a + t0 * aStride, aStride, y + t0 * yStride, yStride); break;
        }
    }

    /// <summary>Lays out superblock <paramref name="x"/> of sixteen rows (<paramref name="wStride"/> apart) as one panel block.</summary>
    [SkipLocalsInit]
    private static void BuildQ45KPanel<TF>(byte* x, long wStride, byte* p) where TF : struct, IQ45Codes
    {
        if (Avx512Vbmi.IsSupported)
            Q4KPanelScalesTransposed(x, wStride, p);
        else
            Q4KPanelScalesByRow(x, wStride, p);
        Q45KPanelCodes<TF>(x, wStride, p);
    }

    /// <summary>The panel block's scale pairs, min pairs, D and DMin, row by row (the reference for the transposed build).</summary>
    [SkipLocalsInit]
    private static void Q4KPanelScalesByRow(byte* x, long wStride, byte* p)
    {
        var scalePairs = (int*)(p + Q4KScalesAt);
        var minPairs = (int*)(p + Q4KMinsAt);
        var d = (float*)(p + Q4KDAt);
        var dmin = (float*)(p + Q4KDMinAt);
        byte* sm = stackalloc byte[32];
        for (int r = 0; r < 16; r++)
        {
            byte* row = x + r * wStride;
            ScalesAndMins(row + 4).Store(sm);
            for (int j = 0; j < 8; j++)
                scalePairs[16 * j + r] = sm[j] * 0x10001;
            for (int k = 0; k < 4; k++)
                minPairs[16 * k + r] = sm[8 + 2 * k] | (sm[9 + 2 * k] << 16);
            d[r] = HalfConvert.ToSingle(*(ushort*)row);
            dmin[r] = HalfConvert.ToSingle(*(ushort*)(row + 2));
        }
    }

    /// <summary>
    /// The same bytes as <see cref="Q4KPanelScalesByRow"/>, with the sixteen rows' unpacked scales and mins
    /// (16 bytes each) transposed by byte permutes (vpermt2b) instead of scattered one by one: output vector m holds
    /// columns 4m..4m+3 of the 16 x 16 byte matrix, column by column, each column the sixteen rows in order.
    /// </summary>
    [SkipLocalsInit]
    private static void Q4KPanelScalesTransposed(byte* x, long wStride, byte* p)
    {
        var d = (float*)(p + Q4KDAt);
        var dmin = (float*)(p + Q4KDMinAt);
        byte* rows = stackalloc byte[256];
        for (int r = 0; r < 16; r++)
        {
            byte* row = x + r * wStride;
            ScalesAndMins(row + 4).GetLower().Store(rows + 16 * r);
            d[r] = HalfConvert.ToSingle(*(ushort*)row);
            dmin[r] = HalfConvert.ToSingle(*(ushort*)(row + 2));
        }
        var z0 = Vector512.Load(rows);
        var z1 = Vector512.Load(rows + 64);
        var z2 = Vector512.Load(rows + 128);
        var z3 = Vector512.Load(rows + 192);
        // Output byte 16q + r of vector m = byte 4m + q of row r: index 16 (r mod 8) + 4m + q into rows 0-7 (z0, z1)
        // or rows 8-15 (z2, z3), the two picked per byte by r >= 8.
        var index = Vector512.Create(
            (byte)0, 16, 32, 48, 64, 80, 96, 112, 0, 16, 32, 48, 64, 80, 96, 112,
            1, 17, 33, 49, 65, 81, 97, 113, 1, 17, 33, 49, 65, 81, 97, 113,
            2, 18, 34, 50, 66, 82, 98, 114, 2, 18, 34, 50, 66, 82, 98, 114,
            3, 19, 35, 51, 67, 83, 99, 115, 3, 19, 35, 51, 67, 83, 99, 115);
        var upperRows = Vector512.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255,
            0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255,
            0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255,
            0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255);
        var scales03 = Columns(z0, z1, z2, z3, index, upperRows);
        var scales47 = Columns(z0, z1, z2, z3, index + Vector512.Create((byte)4), upperRows);
        var mins03 = Columns(z0, z1, z2, z3, index + Vector512.Create((byte)8), upperRows);
        var mins47 = Columns(z0, z1, z2, z3, index + Vector512.Create((byte)12), upperRows);

        var scalePairs = (int*)(p + Q4KScalesAt);
        ScalePair(scales03.GetLower().GetLower(), scalePairs);
        ScalePair(scales03.GetLower().GetUpper(), scalePairs + 16);
        ScalePair(scales03.GetUpper().GetLower(), scalePairs + 32);
        ScalePair(scales03.GetUpper().GetUpper(), scalePairs + 48);
        ScalePair(scales47.GetLower().GetLower(), scalePairs + 64);
        ScalePair(scales47.GetLower().GetUpper(), scalePairs + 80);
        ScalePair(scales47.GetUpper().GetLower(), scalePairs + 96);
        ScalePair(scales47.GetUpper().GetUpper(), scalePairs + 112);
        var minPairs = (int*)(p + Q4KMinsAt);
        MinPair(mins03.GetLower().GetLower(), mins03.GetLower().GetUpper(), minPairs);
        MinPair(mins03.GetUpper().GetLower(), mins03.GetUpper().GetUpper(), minPairs + 16);
        MinPair(mins47.GetLower().GetLower(), mins47.GetLower().GetUpper(), minPairs + 32);
        MinPair(mins47.GetUpper().GetLower(), mins47.GetUpper().GetUpper(), minPairs + 48);

        static Vector512<byte> Columns(Vector512<byte> z0, Vector512<byte> z1, Vector512<byte> z2, Vector512<byte> z3, Vector512<byte> index, Vector512<byte> upperRows) =>
            Vector512.ConditionalSelect(upperRows, Avx512Vbmi.PermuteVar64x8x2(z2, index, z3), Avx512Vbmi.PermuteVar64x8x2(z0, index, z1));

        // Sixteen rows' scale in both 16-bit halves (for vpmaddwd).
        static void ScalePair(Vector128<byte> column, int* dst)
        {
            var v = Avx512F.ConvertToVector512Int32(column);
            (v | (v << 16)).Store(dst);
        }

        // Sixteen rows' mins 2k (low half) and 2k + 1 (high half).
        static void MinPair(Vector128<byte> even, Vector128<byte> odd, int* dst) =>
            (Avx512F.ConvertToVector512Int32(even) | (Avx512F.ConvertToVector512Int32(odd) << 16)).Store(dst);
    }

    /// <summary>
    /// Tests' entry to the two scale builds: the scale part of the panel block for the superblocks at
    /// <paramref name="superblock"/> (sixteen rows <paramref name="wStride"/> bytes apart), into <paramref name="block"/>.
    /// </summary>
    internal static void BuildQ4KPanelScales(ReadOnlySpan<byte> superblock, long wStride, Span<byte> block, bool transposed)
    {
        if (superblock.Length < 15 * wStride + BlockQ4_K.ByteSize || block.Length < Q4KPanelBlockBytes)
            throw new ArgumentException("Sixteen Q4_K rows and a whole panel block are needed.");
        if (transposed && !Avx512Vbmi.IsSupported)
            throw new PlatformNotSupportedException("The transposed build needs AVX-512 VBMI.");
        fixed (byte* x = superblock, p = block)
        {
            if (transposed)
                Q4KPanelScalesTransposed(x, wStride, p);
            else
                Q4KPanelScalesByRow(x, wStride, p);
        }
    }

    /// <summary>The panel block's codes: sub-blocks 2c and 2c + 1 of each half of the sixteen rows, transposed to lane = row.</summary>
    private static void Q45KPanelCodes<TF>(byte* x, long wStride, byte* p) where TF : struct, IQ45Codes
    {
        for (int half = 0; half < 2; half++)
        {
            byte* rows = x + 8 * half * wStride;
            for (int c = 0; c < 4; c++)
            {
                // Sub-blocks 2c (low nibbles) and 2c + 1 (high nibbles) of eight rows, transposed to lane = row.
                TF.Codes(rows, c, out var l0, out var h0);
                TF.Codes(rows + wStride, c, out var l1, out var h1);
                TF.Codes(rows + 2 * wStride, c, out var l2, out var h2);
                TF.Codes(rows + 3 * wStride, c, out var l3, out var h3);
                TF.Codes(rows + 4 * wStride, c, out var l4, out var h4);
                TF.Codes(rows + 5 * wStride, c, out var l5, out var h5);
                TF.Codes(rows + 6 * wStride, c, out var l6, out var h6);
                TF.Codes(rows + 7 * wStride, c, out var l7, out var h7);
                Transpose8(l0, l1, l2, l3, l4, l5, l6, l7, (int*)(p + 2 * c * 8 * 64) + 8 * half, 16);
                Transpose8(h0, h1, h2, h3, h4, h5, h6, h7, (int*)(p + (2 * c + 1) * 8 * 64) + 8 * half, 16);
            }
        }
    }

    /// <summary>
    /// 1-4 tokens (TS.Tokens) against a built Q4_K panel. The float lanes of each token (eight for the scaled sums,
    /// four for the mins, sixteen rows each) live in a small stack buffer, updated once per superblock.
    /// </summary>
    [SkipLocalsInit]
    private static void Q4KPanelTokens<TS>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride) where TS : struct, ITileShape
    {
        const int LanesPerToken = 12 * 16; // 8 sum lanes + 4 min lanes, 16 rows each
        float* lanes = stackalloc float[4 * LanesPerToken]; // not cleared: superblock 0 starts every lane from zero
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        for (int i = 0; i < nb; i++)
        {
            byte* p = panel + (long)i * Q4KPanelBlockBytes;
            var d = Vector512.Load((float*)(p + Q4KDAt));
            var dmin = Vector512.Load((float*)(p + Q4KDMinAt));
            sbyte* c0 = KCodes(a, i), c1 = KCodes(a1, i), c2 = KCodes(a2, i), c3 = KCodes(a3, i);
            for (int l = 0; l < 8; l++)
            {
                Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
                Q4KPanelStep<TS>(p, 0, l, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q4KPanelStep<TS>(p, 1, l, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q4KPanelStep<TS>(p, 2, l, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q4KPanelStep<TS>(p, 3, l, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q4KPanelStep<TS>(p, 4, l, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q4KPanelStep<TS>(p, 5, l, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q4KPanelStep<TS>(p, 6, l, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q4KPanelStep<TS>(p, 7, l, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                // acc_l = fma(isum_l, D_a * D, acc_l), as KFinish does per row.
                float* lane = lanes + 16 * l;
                LaneFma(lane, i == 0, s0, d * KScale(a, nb, i));
                if (TS.Tokens >= 2)
                    LaneFma(lane + LanesPerToken, i == 0, s1, d * KScale(a1, nb, i));
                if (TS.Tokens >= 3)
                    LaneFma(lane + 2 * LanesPerToken, i == 0, s2, d * KScale(a2, nb, i));
                if (TS.Tokens >= 4)
                    LaneFma(lane + 3 * LanesPerToken, i == 0, s3, d * KScale(a3, nb, i));
            }
            Q4KPanelMins(p, dmin, a, nb, i, lanes + 128);
            if (TS.Tokens >= 2)
                Q4KPanelMins(p, dmin, a1, nb, i, lanes + LanesPerToken + 128);
            if (TS.Tokens >= 3)
                Q4KPanelMins(p, dmin, a2, nb, i, lanes + 2 * LanesPerToken + 128);
            if (TS.Tokens >= 4)
                Q4KPanelMins(p, dmin, a3, nb, i, lanes + 3 * LanesPerToken + 128);
        }
        for (int t = 0; t < TS.Tokens; t++)
        {
            float* v = lanes + t * LanesPerToken;
            // Sum8(acc) + Sum4(min), sixteen rows at once.
            var sum = SumLanes8(v);
            var min = (Vector512.Load(v + 128) + Vector512.Load(v + 160)) + (Vector512.Load(v + 144) + Vector512.Load(v + 176));
            (sum + min).Store(y + t * yStride);
        }
    }

    /// <summary>Lane l, sub-block j: scale_j * (codes 4l..4l+3 of j) . activations, added to each token's integer lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4KPanelStep<TS>(byte* p, int j, int l, sbyte* c0, sbyte* c1, sbyte* c2, sbyte* c3,
        ref Vector512<int> s0, ref Vector512<int> s1, ref Vector512<int> s2, ref Vector512<int> s3) where TS : struct, ITileShape
    {
        var codes = Vector512.Load(p + (8 * j + l) * 64);
        var scale = Vector512.Load((short*)(p + Q4KScalesAt + 64 * j));
        int o = 32 * j + 4 * l;
        s0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c0 + o)), scale);
        if (TS.Tokens >= 2)
            s1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c1 + o)), scale);
        if (TS.Tokens >= 3)
            s2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c2 + o)), scale);
        if (TS.Tokens >= 4)
            s3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c3 + o)), scale);
    }

    /// <summary>
    /// Sixteen rows' <see cref="Sum8"/> at once: <paramref name="lanes"/> holds eight float lanes of sixteen rows each
    /// (lane l at lanes + 16 l), added in Sum8's order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> SumLanes8(float* lanes) =>
        ((Vector512.Load(lanes) + Vector512.Load(lanes + 64)) + (Vector512.Load(lanes + 32) + Vector512.Load(lanes + 96)))
        + ((Vector512.Load(lanes + 16) + Vector512.Load(lanes + 80)) + (Vector512.Load(lanes + 48) + Vector512.Load(lanes + 112)));

    /// <summary>lane = fma(isum, scale, lane), from a zero lane on the first superblock (<paramref name="first"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LaneFma(float* lane, bool first, Vector512<int> isum, Vector512<float> scale) =>
        Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), scale, first ? Vector512<float>.Zero : Vector512.Load(lane)).Store(lane);

    /// <summary>
    /// The four min lanes of one token: lane k = mins 2k, 2k + 1 against the activation sums of sub-blocks 2k, 2k + 1,
    /// then min_k = fma(lane k, -D_a * DMin, min_k) (KFinish's split).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q4KPanelMins(byte* p, Vector512<float> dmin, byte* act, int nb, int i, float* mins)
    {
        var sums = KSums(act, nb, i);
        var pairSums = Ssse3.HorizontalAdd(sums.GetLower(), sums.GetUpper()).AsInt32(); // int32 k = sums of sub-blocks 2k, 2k + 1
        var scale = dmin * -KScale(act, nb, i);
        for (int k = 0; k < 4; k++)
        {
            var msum = Avx512BW.MultiplyAddAdjacent(Vector512.Load((short*)(p + Q4KMinsAt + 64 * k)), Vector512.Create(pairSums.GetElement(k)).AsInt16());
            LaneFma(mins + 16 * k, i == 0, msum, scale);
        }
    }

    // The Q6_K panel gives the numbers of Q6K<TS> lane for lane, as the Q4_K panel does for Q4K<TS>. Step s (codes
    // 32s..32s+31) of integer lane q takes scale 2s + q / 4; the bias (codes are stored + 32) comes off per lane before
    // the float step. Panel of one superblock: [s 0-7][q 0-7] 64 bytes (lane r = codes 32s + 4q.. + 3 of row r),
    // 16 x 16 int32 scale pairs (scale g in both words), 8 x 16 int32 bias pairs (scales 2q and 2q + 1), 16 floats D.
    private const int Q6KPanelBlockBytes = 64 * 64 + 16 * 64 + 8 * 64 + 64;
    private const int Q6KScalesAt = 64 * 64, Q6KBiasAt = Q6KScalesAt + 16 * 64, Q6KDAt = Q6KBiasAt + 8 * 64;

    private static int Q6KPanelBytes(int columns) => columns / KBlock * Q6KPanelBlockBytes;

    /// <summary>Lays out superblock <paramref name="x"/> of sixteen rows (<paramref name="wStride"/> apart) as one Q6_K panel block.</summary>
    private static void BuildQ6KPanel(byte* x, long wStride, byte* p)
    {
        var scalePairs = (int*)(p + Q6KScalesAt);
        var biasPairs = (int*)(p + Q6KBiasAt);
        var d = (float*)(p + Q6KDAt);
        for (int r = 0; r < 16; r++)
        {
            byte* row = x + r * wStride;
            var sc = (sbyte*)row + 192;
            for (int g = 0; g < 16; g++)
                scalePairs[16 * g + r] = WordPair(sc[g], sc[g]);
            for (int q = 0; q < 8; q++)
                biasPairs[16 * q + r] = WordPair(sc[2 * q], sc[2 * q + 1]);
            d[r] = HalfConvert.ToSingle(*(ushort*)(row + 208));
        }
        for (int half = 0; half < 2; half++)
        {
            byte* rows = x + 8 * half * wStride;
            for (int h = 0; h < 2; h++)
            {
                Q6KCodes(rows, h, out var a0, out var b0, out var c0, out var d0);
                Q6KCodes(rows + wStride, h, out var a1, out var b1, out var c1, out var d1);
                Q6KCodes(rows + 2 * wStride, h, out var a2, out var b2, out var c2, out var d2);
                Q6KCodes(rows + 3 * wStride, h, out var a3, out var b3, out var c3, out var d3);
                Q6KCodes(rows + 4 * wStride, h, out var a4, out var b4, out var c4, out var d4);
                Q6KCodes(rows + 5 * wStride, h, out var a5, out var b5, out var c5, out var d5);
                Q6KCodes(rows + 6 * wStride, h, out var a6, out var b6, out var c6, out var d6);
                Q6KCodes(rows + 7 * wStride, h, out var a7, out var b7, out var c7, out var d7);
                int* dst = (int*)(p + 4 * h * 8 * 64) + 8 * half; // step s = 4h + k at (8s) * 64 bytes
                Transpose8(a0, a1, a2, a3, a4, a5, a6, a7, dst, 16);
                Transpose8(b0, b1, b2, b3, b4, b5, b6, b7, dst + 128, 16);
                Transpose8(c0, c1, c2, c3, c4, c5, c6, c7, dst + 256, 16);
                Transpose8(d0, d1, d2, d3, d4, d5, d6, d7, dst + 384, 16);
            }
        }
    }

    /// <summary>Two signed 16-bit words in one int32: <paramref name="low"/> first (as vpmaddwd pairs them).</summary>
    private static int WordPair(sbyte low, sbyte high) => (low & 0xFFFF) + (high << 16);

    /// <summary>The unsigned 6-bit codes 128h..128h+127 of a Q6_K superblock, 32 at a time (as <see cref="Q6KHalf{TS}"/> builds them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6KCodes(byte* x, int h, out Vector256<byte> c0, out Vector256<byte> c1, out Vector256<byte> c2, out Vector256<byte> c3)
    {
        var low = Vector256.Create((byte)0x0F);
        var top = Vector256.Create((byte)0x30);
        var ql1 = Vector256.Load(x + 64 * h);
        var ql2 = Vector256.Load(x + 64 * h + 32);
        var qh = Vector256.Load(x + 128 + 32 * h).AsUInt16();
        c0 = (ql1 & low) | (Avx2.ShiftLeftLogical(qh, 4).AsByte() & top);
        c1 = (ql2 & low) | (Avx2.ShiftLeftLogical(qh, 2).AsByte() & top);
        c2 = (Avx2.ShiftRightLogical(ql1.AsUInt16(), 4).AsByte() & low) | (qh.AsByte() & top);
        c3 = (Avx2.ShiftRightLogical(ql2.AsUInt16(), 4).AsByte() & low) | (Avx2.ShiftRightLogical(qh, 2).AsByte() & top);
    }

    /// <summary>1-4 tokens (TS.Tokens) against a built Q6_K panel; eight float lanes of sixteen rows per token on the stack.</summary>
    [SkipLocalsInit]
    private static void Q6KPanelTokens<TS>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride) where TS : struct, ITileShape
    {
        const int LanesPerToken = 8 * 16;
        float* lanes = stackalloc float[4 * LanesPerToken]; // not cleared: superblock 0 starts every lane from zero
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        for (int i = 0; i < nb; i++)
        {
            byte* p = panel + (long)i * Q6KPanelBlockBytes;
            var d = Vector512.Load((float*)(p + Q6KDAt));
            sbyte* c0 = KCodes(a, i), c1 = KCodes(a1, i), c2 = KCodes(a2, i), c3 = KCodes(a3, i);
            var sums0 = KSums(a, nb, i).AsInt32();
            var sums1 = TS.Tokens >= 2 ? KSums(a1, nb, i).AsInt32() : default;
            var sums2 = TS.Tokens >= 3 ? KSums(a2, nb, i).AsInt32() : default;
            var sums3 = TS.Tokens >= 4 ? KSums(a3, nb, i).AsInt32() : default;
            for (int q = 0; q < 8; q++)
            {
                Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
                // Scale of step s in lane q: 2s + q / 4 (lanes 0-3 cover the step's first 16 codes).
                byte* scales = p + Q6KScalesAt + 64 * (q >> 2);
                Q6KPanelStep<TS>(p, scales, 0, q, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q6KPanelStep<TS>(p, scales, 1, q, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q6KPanelStep<TS>(p, scales, 2, q, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q6KPanelStep<TS>(p, scales, 3, q, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q6KPanelStep<TS>(p, scales, 4, q, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q6KPanelStep<TS>(p, scales, 5, q, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q6KPanelStep<TS>(p, scales, 6, q, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                Q6KPanelStep<TS>(p, scales, 7, q, c0, c1, c2, c3, ref s0, ref s1, ref s2, ref s3);
                // acc_q = fma(isum_q - 32 * (scales 2q, 2q + 1 . group sums 2q, 2q + 1), D_a * D, acc_q), as BiasedFinish.
                var bias = Vector512.Load((short*)(p + Q6KBiasAt + 64 * q));
                float* lane = lanes + 16 * q;
                LaneFma(lane, i == 0, s0 - Q6KBias(bias, sums0, q), d * KScale(a, nb, i));
                if (TS.Tokens >= 2)
                    LaneFma(lane + LanesPerToken, i == 0, s1 - Q6KBias(bias, sums1, q), d * KScale(a1, nb, i));
                if (TS.Tokens >= 3)
                    LaneFma(lane + 2 * LanesPerToken, i == 0, s2 - Q6KBias(bias, sums2, q), d * KScale(a2, nb, i));
                if (TS.Tokens >= 4)
                    LaneFma(lane + 3 * LanesPerToken, i == 0, s3 - Q6KBias(bias, sums3, q), d * KScale(a3, nb, i));
            }
        }
        for (int t = 0; t < TS.Tokens; t++)
        {
            float* v = lanes + t * LanesPerToken;
            // Sum8(acc), sixteen rows at once.
            var sum = SumLanes8(v);
            sum.Store(y + t * yStride);
        }
    }

    /// <summary>Lane q, step s: scale * (codes 32s + 4q.. + 3) . activations, added to each token's integer lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6KPanelStep<TS>(byte* p, byte* scales, int s, int q, sbyte* c0, sbyte* c1, sbyte* c2, sbyte* c3,
        ref Vector512<int> s0, ref Vector512<int> s1, ref Vector512<int> s2, ref Vector512<int> s3) where TS : struct, ITileShape
    {
        var codes = Vector512.Load(p + (8 * s + q) * 64);
        var scale = Vector512.Load((short*)(scales + 2 * 64 * s));
        int o = 32 * s + 4 * q;
        s0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c0 + o)), scale);
        if (TS.Tokens >= 2)
            s1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c1 + o)), scale);
        if (TS.Tokens >= 3)
            s2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c2 + o)), scale);
        if (TS.Tokens >= 4)
            s3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c3 + o)), scale);
    }

    /// <summary>32 * (scale 2q * group sum 2q + scale 2q + 1 * group sum 2q + 1) for sixteen rows (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Q6KBias(Vector512<short> pairs, Vector256<int> sums, int q) =>
        Avx512BW.MultiplyAddAdjacent(pairs, Vector512.Create(sums.GetElement(q)).AsInt16()) << 5;
}
