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

    /// <summary>The block scale D (F16, widened).</summary>
    static abstract float Scale(byte* block);

    /// <summary>The block offset M (F16, widened); only for <see cref="HasMin"/> formats.</summary>
    static abstract float Min(byte* block);
}

/// <summary>
/// The legacy-format tile kernels. Prepared activation row of nb blocks (Q8_0 or Q8_1 codes from the activation
/// quantizer): [nb x 32 code bytes][nb x 8 int32 corrections][nb floats D][nb floats S], padded to 64 bytes.
/// Per block and output: lanes += float(exact integer lanes) * (D_w * D_a), offsets summed apart, as
/// <c>sum_lanes + sum_blocks M * S</c> at the end.
/// </summary>
internal static unsafe partial class X86Tiles
{
    private static TileKernels LegacySet<TW>() where TW : struct, ILegacyWeights => new()
    {
        PreparedRowBytes = &LegacyRowBytes,
        Prepare = &PrepareLegacy<TW>,
        PrepareFromActivationFormat = &ConvertLegacy<TW>,
        Tile1x1 = &Legacy<TW, Tile1x1>,
        Tile2x1 = &Legacy<TW, Tile2x1>,
        Tile1x2 = &Legacy<TW, Tile1x2>,
        Tile1x3 = &Legacy<TW, Tile1x3>,
        Tile1x4 = &Legacy<TW, Tile1x4>,
    };

    private static int LegacyRowBytes(int columns) => AlignRow(columns / 32 * 72);

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
        for (int i = 0; i < count; i++)
        {
            byte* block = src + i * blockBytes;
            int b = first + i;
            var codes = Vector256.Load((sbyte*)(block + codesAt));
            codes.Store((sbyte*)dst + b * 32);
            var correction = Vector256<int>.Zero;
            if (TW.Bias != 0)
            {
                // lane l: sum of codes 4l..4l+3, times -bias (exact: |sum| <= 4 * 128)
                var laneSums = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.Create((byte)1), codes), Vector256.Create((short)1));
                correction = laneSums * -TW.Bias;
            }
            correction.Store(corrections + b * 8);
            scales[b] = HalfConvert.ToSingle(*(ushort*)block);
            sums[b] = q81 ? HalfConvert.ToSingle(*(ushort*)(block + 2)) : 0;
        }
    }

    /// <summary>Rows x Tokens legacy-format outputs; see <see cref="TileKernels"/> for the arguments.</summary>
    [SkipLocalsInit]
    private static void Legacy<TW, TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns)
        where TW : struct, ILegacyWeights where TS : struct, ITileShape
    {
        int nb = columns / 32;
        long corrAt = (long)nb * 32, scaleAt = (long)nb * 64, sumAt = (long)nb * 68;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, accRow1 = default;
        float min0 = 0, min1 = 0, min2 = 0, min3 = 0, minRow1 = 0;
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        for (int b = 0; b < nb; b++)
        {
            byte* block = w + (long)b * TW.BlockBytes;
            var codes = TW.Codes(block);
            var dw = Vector256.Create(TW.Scale(block));
            float mw = TW.HasMin ? TW.Min(block) : 0;
            acc0 = LegacyStep<TW>(acc0, codes, dw, a, b, corrAt, scaleAt);
            if (TW.HasMin)
                min0 += mw * ((float*)(a + sumAt))[b];
            if (TS.Rows == 2)
            {
                byte* block1 = block + wStride;
                accRow1 = LegacyStep<TW>(accRow1, TW.Codes(block1), Vector256.Create(TW.Scale(block1)), a, b, corrAt, scaleAt);
                if (TW.HasMin)
                    minRow1 += TW.Min(block1) * ((float*)(a + sumAt))[b];
            }
            if (TS.Tokens >= 2)
            {
                acc1 = LegacyStep<TW>(acc1, codes, dw, a1, b, corrAt, scaleAt);
                if (TW.HasMin)
                    min1 += mw * ((float*)(a1 + sumAt))[b];
            }
            if (TS.Tokens >= 3)
            {
                acc2 = LegacyStep<TW>(acc2, codes, dw, a2, b, corrAt, scaleAt);
                if (TW.HasMin)
                    min2 += mw * ((float*)(a2 + sumAt))[b];
            }
            if (TS.Tokens >= 4)
            {
                acc3 = LegacyStep<TW>(acc3, codes, dw, a3, b, corrAt, scaleAt);
                if (TW.HasMin)
                    min3 += mw * ((float*)(a3 + sumAt))[b];
            }
        }
        y[0] = TW.HasMin ? Sum8(acc0) + min0 : Sum8(acc0);
        if (TS.Rows == 2)
            y[1] = TW.HasMin ? Sum8(accRow1) + minRow1 : Sum8(accRow1);
        if (TS.Tokens >= 2)
            y[yStride] = TW.HasMin ? Sum8(acc1) + min1 : Sum8(acc1);
        if (TS.Tokens >= 3)
            y[2 * yStride] = TW.HasMin ? Sum8(acc2) + min2 : Sum8(acc2);
        if (TS.Tokens >= 4)
            y[3 * yStride] = TW.HasMin ? Sum8(acc3) + min3 : Sum8(acc3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> LegacyStep<TW>(Vector256<float> acc, Vector256<byte> codes, Vector256<float> dw,
        byte* act, int b, long corrAt, long scaleAt) where TW : struct, ILegacyWeights
    {
        var x = Vector256.Load((sbyte*)act + b * 32);
        var correction = TW.Bias != 0 ? Vector256.Load((int*)(act + corrAt) + b * 8) : Vector256<int>.Zero;
        var lanes = TW.Dot(codes, x, correction);
        var scale = dw * Vector256.Create(((float*)(act + scaleAt))[b]);
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(lanes), scale, acc);
    }

    /// <summary>16 packed nibbles to 32 code bytes: low nibbles (weights 0-15), then high nibbles (weights 16-31).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Nibbles(byte* qs)
    {
        var raw = Vector128.Load(qs);
        var high = Sse2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte();
        return Vector256.Create(raw, high) & Vector256.Create((byte)0x0F);
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
    }
}
