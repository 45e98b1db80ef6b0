using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// The AVX-512 sixteen-row prompt panel of Q2_K and Q3_K. Like the Q4_K panel it computes, row for row, the numbers of
/// the tile kernel (<see cref="Q2K{TS}"/>, <see cref="Q3K{TS}"/>): tile lane q (0-7) sums codes 4q..4q+3 of each of the
/// eight 32-code steps times that step's group scale (group 2 step for q &lt; 4, 2 step + 1 otherwise), then takes
/// its offset lane (Q3_K: -4 (s_2q bsum_2q + s_2q+1 bsum_2q+1); Q2_K: the mins m_2q, m_2q+1 against the same group
/// sums, in a float lane of their own) and the same fused multiply-adds. Only where the numbers live changes
/// (lane = row), so the outputs are bit-identical to the tiles'.
/// </summary>
/// <remarks>
/// Panel of one superblock (<see cref="GroupPanelBlockBytes"/>): [step 0-7][q 0-7] 64 bytes (lane r = unsigned codes
/// 32 step + 4q .. + 3 of row r), then 16 x 16 int32 scale pairs (group g's scale in both words), 8 x 16 int32
/// offset pairs (Q3_K: scales 2q, 2q + 1; Q2_K: mins 2q, 2q + 1), 16 floats D, 16 floats DMin (Q2_K).
/// </remarks>
internal static unsafe partial class X86Tiles
{
    private const int GroupPanelBlockBytes = 64 * 64 + 16 * 64 + 8 * 64 + 64 + 64;
    private const int GroupScalesAt = 64 * 64, GroupOffsetsAt = GroupScalesAt + 16 * 64, GroupDAt = GroupOffsetsAt + 8 * 64, GroupDMinAt = GroupDAt + 64;

    private static int GroupPanelBytes(int columns) => columns / KBlock * GroupPanelBlockBytes;

    /// <summary>What the Q2_K and Q3_K panels differ in: the block, its codes and scales, and how offsets come off.</summary>
    private interface IGroupFormat
    {
        static abstract int BlockBytes { get; }

        /// <summary>Fewer tokens than this take the tile kernels (see the formats for what was measured).</summary>
        static abstract int PanelMinTokens { get; }

        /// <summary>True for Q2_K (mins in float lanes of their own), false for Q3_K (a bias taken off the integer lanes).</summary>
        static abstract bool HasMins { get; }

        static abstract void Tile<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape;

        /// <summary>The 32 unsigned codes of step 4h + k of the superblock at <paramref name="x"/> (constants h, k).</summary>
        static abstract Vector256<byte> Codes(byte* x, int h, int k);

        /// <summary>The sixteen group scales (16-bit) and offsets (Q2_K: the mins; Q3_K: the scales again).</summary>
        static abstract void ScalesAndOffsets(byte* x, out Vector256<short> scales, out Vector256<short> offsets);

        static abstract float D(byte* x);

        static abstract float DMin(byte* x);
    }

    private readonly struct Q2Format : IGroupFormat
    {
        public static int BlockBytes => BlockQ2_K.ByteSize;
        // 134M Q2_K, 2 threads, panel against tiles: slower at 16 and 32 tokens (TTFT 33 -> 40 ms), mixed at 48,
        // faster at 128 (494-523 -> 540-623 tok/s).
        public static int PanelMinTokens => 64;
        public static bool HasMins => true;
        public static void Tile<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape =>
            Q2K<TS>(w, wStride, a, aStride, y, yStride, columns);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* x, int h, int k) => TwoBits(Vector256.Load(x + 16 + 32 * h), k);
        public static void ScalesAndOffsets(byte* x, out Vector256<short> scales, out Vector256<short> offsets)
        {
            var packed = Vector128.Load(x);
            scales = Avx2.ConvertToVector256Int16(packed & Vector128.Create((byte)0x0F));
            offsets = Avx2.ConvertToVector256Int16(Sse2.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & Vector128.Create((byte)0x0F));
        }
        public static float D(byte* x) => HalfConvert.ToSingle(*(ushort*)(x + 80));
        public static float DMin(byte* x) => HalfConvert.ToSingle(*(ushort*)(x + 82));
    }

    private readonly struct Q3Format : IGroupFormat
    {
        public static int BlockBytes => BlockQ3_K.ByteSize;
        // 134M Q3_K_M, 2 threads, panel against tiles: slightly slower at 16 tokens, faster at 32, 48 and 128
        // (pp128 589-617 -> 681-818 tok/s).
        public static int PanelMinTokens => 32;
        public static bool HasMins => false;
        public static void Tile<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape =>
            Q3K<TS>(w, wStride, a, aStride, y, yStride, columns);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Codes(byte* x, int h, int k) => Q3Codes(Vector256.Load(x + 32 + 32 * h), Vector256.Load(x), h, k);
        public static void ScalesAndOffsets(byte* x, out Vector256<short> scales, out Vector256<short> offsets)
        {
            scales = Q3Scales(x + 96);
            offsets = scales;
        }
        public static float D(byte* x) => HalfConvert.ToSingle(*(ushort*)(x + 108));
        public static float DMin(byte* x) => 0;
    }

    private readonly struct GroupPanel<TG> : IKQuantPanel where TG : struct, IGroupFormat
    {
        public static int MinTokens => TG.PanelMinTokens;
        public static int WeightBlockBytes => TG.BlockBytes;
        public static int PanelBlockBytes => GroupPanelBlockBytes;
        public static void Tile<TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns) where TS : struct, ITileShape =>
            TG.Tile<TS>(w, wStride, a, aStride, y, yStride, columns);
        public static void Build(byte* x, long wStride, byte* p) => BuildGroupPanel<TG>(x, wStride, p);
        public static void Tokens<TS>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride) where TS : struct, ITileShape =>
            GroupPanelTokens<TS, TG>(panel, nb, a, aStride, y, yStride);
    }

    /// <summary>Lays out superblock <paramref name="x"/> of sixteen rows (<paramref name="wStride"/> apart) as one panel block.</summary>
    [SkipLocalsInit]
    private static void BuildGroupPanel<TG>(byte* x, long wStride, byte* p) where TG : struct, IGroupFormat
    {
        for (int half = 0; half < 2; half++)
        {
            byte* rows = x + 8 * half * wStride;
            GroupPanelCodes<TG>(rows, wStride, p, 0, 0, half);
            GroupPanelCodes<TG>(rows, wStride, p, 0, 1, half);
            GroupPanelCodes<TG>(rows, wStride, p, 0, 2, half);
            GroupPanelCodes<TG>(rows, wStride, p, 0, 3, half);
            GroupPanelCodes<TG>(rows, wStride, p, 1, 0, half);
            GroupPanelCodes<TG>(rows, wStride, p, 1, 1, half);
            GroupPanelCodes<TG>(rows, wStride, p, 1, 2, half);
            GroupPanelCodes<TG>(rows, wStride, p, 1, 3, half);
        }
        var scalePairs = (int*)(p + GroupScalesAt);
        var offsetPairs = (int*)(p + GroupOffsetsAt);
        short* s = stackalloc short[16];
        short* o = stackalloc short[16];
        for (int r = 0; r < 16; r++)
        {
            byte* row = x + r * wStride;
            TG.ScalesAndOffsets(row, out var scales, out var offsets);
            scales.Store(s);
            offsets.Store(o);
            for (int g = 0; g < 16; g++)
                scalePairs[16 * g + r] = (s[g] & 0xFFFF) | (s[g] << 16);
            for (int q = 0; q < 8; q++)
                offsetPairs[16 * q + r] = (o[2 * q] & 0xFFFF) | (o[2 * q + 1] << 16); // word pair, low first
            ((float*)(p + GroupDAt))[r] = TG.D(row);
            ((float*)(p + GroupDMinAt))[r] = TG.DMin(row);
        }
    }

    /// <summary>Step 4h + k of eight rows (half <paramref name="half"/> of the sixteen), transposed to lane = row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GroupPanelCodes<TG>(byte* rows, long wStride, byte* p, int h, int k, int half) where TG : struct, IGroupFormat =>
        Transpose8(
            TG.Codes(rows, h, k), TG.Codes(rows + wStride, h, k), TG.Codes(rows + 2 * wStride, h, k), TG.Codes(rows + 3 * wStride, h, k),
            TG.Codes(rows + 4 * wStride, h, k), TG.Codes(rows + 5 * wStride, h, k), TG.Codes(rows + 6 * wStride, h, k), TG.Codes(rows + 7 * wStride, h, k),
            (int*)(p + (4 * h + k) * 8 * 64) + 8 * half, 16);

    /// <summary>
    /// 1-4 tokens (TS.Tokens) against a built Q2_K / Q3_K panel. The float lanes of each token (eight for the scaled
    /// sums, eight for Q2_K's mins, sixteen rows each) live in a small stack buffer, updated once per superblock.
    /// </summary>
    [SkipLocalsInit]
    private static void GroupPanelTokens<TS, TG>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride)
        where TS : struct, ITileShape where TG : struct, IGroupFormat
    {
        const int LanesPerToken = 16 * 16; // 8 sum lanes + 8 min lanes, 16 rows each
        float* lanes = stackalloc float[4 * LanesPerToken]; // not cleared: superblock 0 starts every lane from zero
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        for (int i = 0; i < nb; i++)
        {
            byte* p = panel + (long)i * GroupPanelBlockBytes;
            var d = Vector512.Load((float*)(p + GroupDAt));
            var dmin = Vector512.Load((float*)(p + GroupDMinAt));
            sbyte* c0 = KCodes(a, i), c1 = KCodes(a1, i), c2 = KCodes(a2, i), c3 = KCodes(a3, i);
            for (int q = 0; q < 8; q++)
            {
                Vector512<int> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int step = 0; step < 8; step++)
                {
                    var codes = Vector512.Load(p + (8 * step + q) * 64);
                    var scale = Vector512.Load((short*)(p + GroupScalesAt + 64 * (2 * step + (q >> 2))));
                    int o = 32 * step + 4 * q;
                    s0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c0 + o)), scale);
                    if (TS.Tokens >= 2)
                        s1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c1 + o)), scale);
                    if (TS.Tokens >= 3)
                        s2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c2 + o)), scale);
                    if (TS.Tokens >= 4)
                        s3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(codes, Broadcast4x16((byte*)c3 + o)), scale);
                }
                var offsets = Vector512.Load((short*)(p + GroupOffsetsAt + 64 * q));
                float* lane = lanes + 16 * q;
                GroupPanelFinish<TG>(lane, i == 0, s0, offsets, d, dmin, a, nb, i, q);
                if (TS.Tokens >= 2)
                    GroupPanelFinish<TG>(lane + LanesPerToken, i == 0, s1, offsets, d, dmin, a1, nb, i, q);
                if (TS.Tokens >= 3)
                    GroupPanelFinish<TG>(lane + 2 * LanesPerToken, i == 0, s2, offsets, d, dmin, a2, nb, i, q);
                if (TS.Tokens >= 4)
                    GroupPanelFinish<TG>(lane + 3 * LanesPerToken, i == 0, s3, offsets, d, dmin, a3, nb, i, q);
            }
        }
        for (int t = 0; t < TS.Tokens; t++)
        {
            float* v = lanes + t * LanesPerToken;
            // Sum8(acc) (+ Sum8(min)), sixteen rows at once.
            var sum = SumLanes8(v);
            if (TG.HasMins)
                sum += SumLanes8(v + 128);
            sum.Store(y + t * yStride);
        }
    }

    /// <summary>
    /// Lane q of one token, sixteen rows: the offsets against the group sums 2q, 2q + 1, then the tile's fused
    /// multiply-adds (Q3_K: isum - 4 bias at D_a D; Q2_K: isum at D_a D, and the mins at -D_a DMin in lane 8 + q).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GroupPanelFinish<TG>(float* lane, bool first, Vector512<int> isum, Vector512<short> offsets,
        Vector512<float> d, Vector512<float> dmin, byte* act, int nb, int i, int q) where TG : struct, IGroupFormat
    {
        int sums = ((int*)(act + (long)nb * KBlock))[8 * i + q]; // group sums 2q and 2q + 1 as one word pair
        var offset = Avx512BW.MultiplyAddAdjacent(offsets, Vector512.Create(sums).AsInt16());
        float da = KScale(act, nb, i);
        if (TG.HasMins)
        {
            LaneFma(lane, first, isum, Vector512.Create(da) * d);
            LaneFma(lane + 128, first, offset, Vector512.Create(-da) * dmin);
        }
        else
        {
            LaneFma(lane, first, isum - (offset << 2), Vector512.Create(da) * d);
        }
    }
}
