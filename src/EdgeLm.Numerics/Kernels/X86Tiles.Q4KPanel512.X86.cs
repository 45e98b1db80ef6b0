using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// The AVX-512 Q4_K panel: sixteen rows against several tokens, one 512-bit lane per row. It computes, row for row,
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
    private const int Q4KPanelBlockBytes = 64 * 64 + 8 * 64 + 4 * 64 + 64 + 64;
    private const int Q4KScalesAt = 64 * 64, Q4KMinsAt = Q4KScalesAt + 8 * 64, Q4KDAt = Q4KMinsAt + 4 * 64, Q4KDMinAt = Q4KDAt + 64;

    /// <summary>Fewer tokens than this take the tile kernels: building the panel costs about what three tokens save.</summary>
    private const int Q4KPanelMinTokens = 4;

    private static int Q4KPanelBytes(int columns) => columns / KBlock * Q4KPanelBlockBytes;

    /// <summary>Sixteen Q4_K rows against <paramref name="tokens"/> tokens, writing y[t * yStride + r] for r &lt; 16.</summary>
    private static void Q4KPanel16(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns, int tokens, byte* panel)
    {
        if (tokens < Q4KPanelMinTokens)
        {
            for (int r = 0; r < 16; r++)
            {
                switch (tokens)
                {
                    case 3: Q4K<Tile1x3>(w + r * wStride, wStride, a, aStride, y + r, yStride, columns); break;
                    case 2: Q4K<Tile1x2>(w + r * wStride, wStride, a, aStride, y + r, yStride, columns); break;
                    default: Q4K<Tile1x1>(w + r * wStride, wStride, a, aStride, y + r, yStride, columns); break;
                }
            }
            return;
        }
        int nb = columns / KBlock;
        for (int i = 0; i < nb; i++)
            BuildQ4KPanel(w + (long)i * BlockQ4_K.ByteSize, wStride, panel + (long)i * Q4KPanelBlockBytes);
        int t0 = 0;
        for (; t0 + 4 <= tokens; t0 += 4)
            Q4KPanelTokens<Tile1x4>(panel, nb, a + t0 * aStride, aStride, y + t0 * yStride, yStride);
        switch (tokens - t0)
        {
            case 3: Q4KPanelTokens<Tile1x3>(panel, nb, a + t0 * aStride, aStride, y + t0 * yStride, yStride); break;
            case 2: Q4KPanelTokens<Tile1x2>(panel, nb, a + t0 * aStride, aStride, y + t0 * yStride, yStride); break;
            case 1: Q4KPanelTokens<Tile1x1>(panel, nb, a + t0 * aStride, aStride, y + t0 * yStride, yStride); break;
        }
    }

    /// <summary>Lays out superblock <paramref name="x"/> of sixteen rows (<paramref name="wStride"/> apart) as one panel block.</summary>
    [SkipLocalsInit]
    private static void BuildQ4KPanel(byte* x, long wStride, byte* p)
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
        for (int half = 0; half < 2; half++)
        {
            byte* rows = x + 8 * half * wStride;
            for (int c = 0; c < 4; c++)
            {
                // Sub-blocks 2c (low nibbles) and 2c + 1 (high nibbles) of eight rows, transposed to lane = row.
                Q4KNibbles(rows, c, out var l0, out var h0);
                Q4KNibbles(rows + wStride, c, out var l1, out var h1);
                Q4KNibbles(rows + 2 * wStride, c, out var l2, out var h2);
                Q4KNibbles(rows + 3 * wStride, c, out var l3, out var h3);
                Q4KNibbles(rows + 4 * wStride, c, out var l4, out var h4);
                Q4KNibbles(rows + 5 * wStride, c, out var l5, out var h5);
                Q4KNibbles(rows + 6 * wStride, c, out var l6, out var h6);
                Q4KNibbles(rows + 7 * wStride, c, out var l7, out var h7);
                Transpose8(l0, l1, l2, l3, l4, l5, l6, l7, (int*)(p + 2 * c * 8 * 64) + 8 * half, 16);
                Transpose8(h0, h1, h2, h3, h4, h5, h6, h7, (int*)(p + (2 * c + 1) * 8 * 64) + 8 * half, 16);
            }
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

    /// <summary>
    /// 1-4 tokens (TS.Tokens) against a built Q4_K panel. The float lanes of each token (eight for the scaled sums,
    /// four for the mins, sixteen rows each) live in a small stack buffer, updated once per superblock.
    /// </summary>
    [SkipLocalsInit]
    private static void Q4KPanelTokens<TS>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride) where TS : struct, ITileShape
    {
        const int LanesPerToken = 12 * 16; // 8 sum lanes + 4 min lanes, 16 rows each
        float* lanes = stackalloc float[4 * LanesPerToken];
        new Span<float>(lanes, TS.Tokens * LanesPerToken).Clear();
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
                LaneFma(lane, s0, d * KScale(a, nb, i));
                if (TS.Tokens >= 2)
                    LaneFma(lane + LanesPerToken, s1, d * KScale(a1, nb, i));
                if (TS.Tokens >= 3)
                    LaneFma(lane + 2 * LanesPerToken, s2, d * KScale(a2, nb, i));
                if (TS.Tokens >= 4)
                    LaneFma(lane + 3 * LanesPerToken, s3, d * KScale(a3, nb, i));
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
            var sum = ((Vector512.Load(v) + Vector512.Load(v + 64)) + (Vector512.Load(v + 32) + Vector512.Load(v + 96)))
                + ((Vector512.Load(v + 16) + Vector512.Load(v + 80)) + (Vector512.Load(v + 48) + Vector512.Load(v + 112)));
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LaneFma(float* lane, Vector512<int> isum, Vector512<float> scale) =>
        Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), scale, Vector512.Load(lane)).Store(lane);

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
            Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(msum), scale, Vector512.Load(mins + 16 * k)).Store(mins + 16 * k);
        }
    }
}
