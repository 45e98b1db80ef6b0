using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Float-format tile kernels (F32, F16, BF16) against float activations. Prepared activation row: the values rounded
/// through the activation format (exactly what the F16/BF16 row would hold), padded to 64 bytes. Output = eight
/// lanes of fused multiply-adds over columns 8k..8k+7 in order, summed in a fixed order, plus the last columns % 8
/// products added one by one.
/// </summary>
/// <remarks>
/// F16 weights are widened to their exact float values without ever forming a subnormal float (a subnormal half is
/// a normal float; a cheaper widening to w * 2^-112 would make it a float subnormal, and operations on those take
/// microcode assists). Infinities and NaNs come out finite from the fast widening, so each row's largest magnitude
/// is tracked and a row holding one is redone with the fully exact conversion.
/// </remarks>
internal static unsafe partial class X86Tiles
{
    private static TileKernels FloatSet<TW>() where TW : struct, IFloatWeights => new()
    {
        PreparedLayout = 2000 + (int)TW.Type,
        PreparedRowBytes = &FloatRowBytes,
        Prepare = &PrepareFloat<TW>,
        PrepareFromActivationFormat = &ConvertFloat<TW>,
        Tile1x1 = &FloatTile<TW, Tile1x1>,
        Tile2x1 = &FloatTile<TW, Tile2x1>,
        Tile1x2 = &FloatTile<TW, Tile1x2>,
        Tile1x3 = &FloatTile<TW, Tile1x3>,
        Tile1x4 = &FloatTile<TW, Tile1x4>,
        PanelBytes = &FloatPanelBytes,
        Panel = HasFloatPanel512 ? &FloatPanel512<TW> : &FloatPanel<TW>,
    };

    private static int FloatPanelBytes(int columns) => 8 * AlignRow(columns * sizeof(float));

    /// <summary>
    /// Eight rows against several tokens: the eight rows widened once into float in <paramref name="panel"/>, then
    /// for every four tokens (whose activations then stay in L1) each pair of rows in a 2 x 4 register tile. The
    /// lanes, their order and the tail are those of <see cref="FloatTile{TW, TS}"/>, so results are the same.
    /// </summary>
    private static void FloatPanel<TW>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns, int tokens, byte* panel)
        where TW : struct, IFloatWeights
    {
        int rowFloats = AlignRow(columns * sizeof(float)) / sizeof(float);
        var rows = (float*)panel;
        int full = columns & ~7;
        int exactPairs = 0; // bit p: pair p holds an F16 infinity or NaN and is done with exact widening
        for (int pair = 0; pair < 4; pair++)
        {
            Vector256<ushort> largest = default;
            for (int r = 2 * pair; r < 2 * pair + 2; r++)
            {
                byte* row = w + r * wStride;
                float* dst = rows + r * rowFloats;
                int c = 0;
                for (; c < full; c += 8)
                    TW.Widen8(row, c, ref largest).Store(dst + c);
                for (; c < columns; c++)
                    dst[c] = TW.Widen1(row, c);
            }
            if (TW.Type == GgmlType.F16 && Vector256.GreaterThanOrEqualAny(largest, Vector256.Create((ushort)0x7C00)))
                exactPairs |= 1 << pair;
        }
        for (int t0 = 0; t0 < tokens; t0 += 4)
        {
            int n = Math.Min(4, tokens - t0);
            byte* at = a + t0 * aStride;
            for (int pair = 0; pair < 4; pair++)
            {
                float* yp = y + t0 * yStride + 2 * pair;
                if ((exactPairs & (1 << pair)) != 0)
                {
                    for (int t = 0; t < n; t++)
                        FloatTileExact<TW, Tile2x1>(w + 2 * pair * wStride, wStride, at + t * aStride, aStride, yp + t * yStride, yStride, columns);
                    continue;
                }
                float* w0 = rows + 2 * pair * rowFloats, w1 = w0 + rowFloats;
                switch (n)
                {
                    case 4: FloatPanelTokens<Tile1x4>(w0, w1, at, aStride, yp, yStride, columns); break;
                    case 3: FloatPanelTokens<Tile1x3>(w0, w1, at, aStride, yp, yStride, columns); break;
                    case 2: FloatPanelTokens<Tile1x2>(w0, w1, at, aStride, yp, yStride, columns); break;
                    default: FloatPanelTokens<Tile1x1>(w0, w1, at, aStride, yp, yStride, columns); break;
                }
            }
        }
    }

    /// <summary>Two widened rows against TS.Tokens tokens: y[r + t * yStride].</summary>
    [SkipLocalsInit]
    private static void FloatPanelTokens<TS>(float* w0, float* w1, byte* a, long aStride, float* y, long yStride, int columns)
        where TS : struct, ITileShape
    {
        var x0 = (float*)a;
        var x1 = (float*)(a + aStride);
        var x2 = (float*)(a + 2 * aStride);
        var x3 = (float*)(a + 3 * aStride);
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        int full = columns & ~7;
        for (int c = 0; c < full; c += 8)
        {
            var u = Vector256.Load(w0 + c);
            var v = Vector256.Load(w1 + c);
            var t = Vector256.Load(x0 + c);
            a00 = Fma.MultiplyAdd(u, t, a00);
            a10 = Fma.MultiplyAdd(v, t, a10);
            if (TS.Tokens >= 2)
            {
                t = Vector256.Load(x1 + c);
                a01 = Fma.MultiplyAdd(u, t, a01);
                a11 = Fma.MultiplyAdd(v, t, a11);
            }
            if (TS.Tokens >= 3)
            {
                t = Vector256.Load(x2 + c);
                a02 = Fma.MultiplyAdd(u, t, a02);
                a12 = Fma.MultiplyAdd(v, t, a12);
            }
            if (TS.Tokens >= 4)
            {
                t = Vector256.Load(x3 + c);
                a03 = Fma.MultiplyAdd(u, t, a03);
                a13 = Fma.MultiplyAdd(v, t, a13);
            }
        }
        y[0] = Sum8(a00) + PanelTail(w0, x0, full, columns);
        y[1] = Sum8(a10) + PanelTail(w1, x0, full, columns);
        if (TS.Tokens >= 2)
        {
            y[yStride] = Sum8(a01) + PanelTail(w0, x1, full, columns);
            y[yStride + 1] = Sum8(a11) + PanelTail(w1, x1, full, columns);
        }
        if (TS.Tokens >= 3)
        {
            y[2 * yStride] = Sum8(a02) + PanelTail(w0, x2, full, columns);
            y[2 * yStride + 1] = Sum8(a12) + PanelTail(w1, x2, full, columns);
        }
        if (TS.Tokens >= 4)
        {
            y[3 * yStride] = Sum8(a03) + PanelTail(w0, x3, full, columns);
            y[3 * yStride + 1] = Sum8(a13) + PanelTail(w1, x3, full, columns);
        }
    }

    /// <summary>The last columns % 8 products, one by one, from a widened row (as <see cref="FloatTail{TW}"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float PanelTail(float* w, float* x, int from, int to)
    {
        float sum = 0;
        for (int c = from; c < to; c++)
            sum = MathF.FusedMultiplyAdd(w[c], x[c], sum);
        return sum;
    }

    private static int FloatRowBytes(int columns) => AlignRow(columns * sizeof(float));

    private static void PrepareFloat<TW>(float* x, int columns, byte* dst) where TW : struct, IFloatWeights
    {
        var src = new ReadOnlySpan<float>(x, columns);
        var f = new Span<float>(dst, columns);
        if (TW.Type == GgmlType.F16)
        {
            // Round through half a chunk at a time.
            Span<Half> halves = stackalloc Half[256];
            for (int c = 0; c < columns; c += 256)
            {
                int n = Math.Min(256, columns - c);
                TensorPrimitives.ConvertToHalf(src.Slice(c, n), halves[..n]);
                TensorPrimitives.ConvertToSingle(halves[..n], f.Slice(c, n));
            }
        }
        else if (TW.Type == GgmlType.BF16)
        {
            for (int i = 0; i < columns; i++)
                f[i] = HalfConvert.FromBf16(HalfConvert.ToBf16(src[i]));
        }
        else
        {
            src.CopyTo(f);
        }
    }

    private static void ConvertFloat<TW>(byte* src, int columns, byte* dst) where TW : struct, IFloatWeights
    {
        var f = new Span<float>(dst, columns);
        if (TW.Type == GgmlType.F16)
        {
            HalfConvert.WidenHalves((ushort*)src, (float*)dst, columns);
        }
        else if (TW.Type == GgmlType.BF16)
        {
            for (int i = 0; i < columns; i++)
                f[i] = HalfConvert.FromBf16(((ushort*)src)[i]);
        }
        else
        {
            new ReadOnlySpan<float>(src, columns).CopyTo(f);
        }
    }

    /// <summary>Rows x Tokens float-format outputs; see <see cref="TileKernels"/> for the arguments.</summary>
    [SkipLocalsInit]
    private static void FloatTile<TW, TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns)
        where TW : struct, IFloatWeights where TS : struct, ITileShape
    {
        var x0 = (float*)a;
        var x1 = (float*)(a + aStride);
        var x2 = (float*)(a + 2 * aStride);
        var x3 = (float*)(a + 3 * aStride);
        byte* w1 = w + wStride;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default, accRow1 = default;
        Vector256<ushort> largest = default;
        int full = columns & ~7;
        // Two rows are read side by side: once a row is longer than half the prefetch distance, the first row's
        // prefetch would land in the second row, which is being read already, so both reach a row further.
        long ahead = TS.Rows == 2 && 2 * wStride > PrefetchDistance ? wStride + PrefetchDistance : PrefetchDistance;
        int c = 0;
        // Sixteen columns per step (two groups of eight, in order: the same lanes as eight at a time).
        for (; c + 16 <= full; c += 16)
        {
            if (TS.Tokens == 1)
            {
                // Decode streams the weights once: ask for them well ahead (the next rows, a few KB on).
                Sse.Prefetch0(w + c * TW.WeightBytes + ahead);
                if (TS.Rows == 2)
                    Sse.Prefetch0(w1 + c * TW.WeightBytes + ahead);
            }
            TW.Widen16(w, c, ref largest, out var wa, out var wb);
            var xa = Vector256.Load(x0 + c);
            var xb = Vector256.Load(x0 + c + 8);
            acc0 = Fma.MultiplyAdd(wb, xb, Fma.MultiplyAdd(wa, xa, acc0));
            if (TS.Rows == 2)
            {
                TW.Widen16(w1, c, ref largest, out var va, out var vb);
                accRow1 = Fma.MultiplyAdd(vb, xb, Fma.MultiplyAdd(va, xa, accRow1));
            }
            if (TS.Tokens >= 2)
                acc1 = Fma.MultiplyAdd(wb, Vector256.Load(x1 + c + 8), Fma.MultiplyAdd(wa, Vector256.Load(x1 + c), acc1));
            if (TS.Tokens >= 3)
                acc2 = Fma.MultiplyAdd(wb, Vector256.Load(x2 + c + 8), Fma.MultiplyAdd(wa, Vector256.Load(x2 + c), acc2));
            if (TS.Tokens >= 4)
                acc3 = Fma.MultiplyAdd(wb, Vector256.Load(x3 + c + 8), Fma.MultiplyAdd(wa, Vector256.Load(x3 + c), acc3));
        }
        if (c < full)
        {
            var wv = TW.Widen8(w, c, ref largest);
            acc0 = Fma.MultiplyAdd(wv, Vector256.Load(x0 + c), acc0);
            if (TS.Rows == 2)
                accRow1 = Fma.MultiplyAdd(TW.Widen8(w1, c, ref largest), Vector256.Load(x0 + c), accRow1);
            if (TS.Tokens >= 2)
                acc1 = Fma.MultiplyAdd(wv, Vector256.Load(x1 + c), acc1);
            if (TS.Tokens >= 3)
                acc2 = Fma.MultiplyAdd(wv, Vector256.Load(x2 + c), acc2);
            if (TS.Tokens >= 4)
                acc3 = Fma.MultiplyAdd(wv, Vector256.Load(x3 + c), acc3);
        }
        if (TW.Type == GgmlType.F16 && Vector256.GreaterThanOrEqualAny(largest, Vector256.Create((ushort)0x7C00)))
        {
            // An infinity or NaN among the weights: redo these rows with exact widening.
            FloatTileExact<TW, TS>(w, wStride, a, aStride, y, yStride, columns);
            return;
        }
        y[0] = Sum8(acc0) + FloatTail<TW>(w, x0, full, columns);
        if (TS.Rows == 2)
            y[1] = Sum8(accRow1) + FloatTail<TW>(w1, x0, full, columns);
        if (TS.Tokens >= 2)
            y[yStride] = Sum8(acc1) + FloatTail<TW>(w, x1, full, columns);
        if (TS.Tokens >= 3)
            y[2 * yStride] = Sum8(acc2) + FloatTail<TW>(w, x2, full, columns);
        if (TS.Tokens >= 4)
            y[3 * yStride] = Sum8(acc3) + FloatTail<TW>(w, x3, full, columns);
    }

    /// <summary>The products of columns [from, to) added one by one (to - from &lt; 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FloatTail<TW>(byte* w, float* x, int from, int to) where TW : struct, IFloatWeights
    {
        float sum = 0;
        for (int c = from; c < to; c++)
            sum = MathF.FusedMultiplyAdd(TW.Widen1(w, c), x[c], sum);
        return sum;
    }

    /// <summary>The slow path of F16 rows holding infinities or NaNs: the same lanes with exactly widened weights.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FloatTileExact<TW, TS>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns)
        where TW : struct, IFloatWeights where TS : struct, ITileShape
    {
        float* wf = stackalloc float[8];
        for (int r = 0; r < TS.Rows; r++)
        {
            for (int t = 0; t < TS.Tokens; t++)
            {
                var x = (float*)(a + t * aStride);
                var row = (ushort*)(w + r * wStride);
                var acc = Vector256<float>.Zero;
                int full = columns & ~7;
                for (int c = 0; c < full; c += 8)
                {
                    HalfConvert.WidenHalves(row + c, wf, 8);
                    acc = Fma.MultiplyAdd(Vector256.Load(wf), Vector256.Load(x + c), acc);
                }
                float tail = 0;
                for (int c = full; c < columns; c++)
                    tail = MathF.FusedMultiplyAdd(HalfConvert.ToSingle(row[c]), x[c], tail);
                y[r + t * yStride] = Sum8(acc) + tail;
            }
        }
    }

    /// <summary>A float weight format as the float tile kernel reads it: every weight widened to its true float value.</summary>
    private interface IFloatWeights
    {
        static abstract GgmlType Type { get; }

        /// <summary>Bytes per weight.</summary>
        static abstract int WeightBytes { get; }

        /// <summary>
        /// Weights c..c+7 of the row at <paramref name="row"/> as floats; tracks the largest F16 magnitude seen
        /// (0x7C00 and up: an infinity or NaN, which the fast F16 widening does not reproduce).
        /// </summary>
        static abstract Vector256<float> Widen8(byte* row, int c, ref Vector256<ushort> largest);

        /// <summary>Weights c..c+15 as <see cref="Widen8"/> gives them, eight at a time.</summary>
        static abstract void Widen16(byte* row, int c, ref Vector256<ushort> largest, out Vector256<float> first, out Vector256<float> second);

        /// <summary>Weight <paramref name="c"/> exactly.</summary>
        static abstract float Widen1(byte* row, int c);
    }

    private struct F32Weights : IFloatWeights
    {
        public static GgmlType Type => GgmlType.F32;
        public static int WeightBytes => 4;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen8(byte* row, int c, ref Vector256<ushort> largest) => Vector256.Load((float*)row + c);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Widen16(byte* row, int c, ref Vector256<ushort> largest, out Vector256<float> first, out Vector256<float> second)
        {
            first = Vector256.Load((float*)row + c);
            second = Vector256.Load((float*)row + c + 8);
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Widen1(byte* row, int c) => ((float*)row)[c];
    }

    private struct F16Weights : IFloatWeights
    {
        public static GgmlType Type => GgmlType.F16;
        public static int WeightBytes => 2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Widen16(byte* row, int c, ref Vector256<ushort> largest, out Vector256<float> first, out Vector256<float> second)
        {
            var h = (ushort*)row + c;
            if (UsesAvx512)
            {
                // Sixteen at a time in one 512-bit register, then split for the eight-lane sums.
                var both = TrueHalves16(h, ref largest);
                first = both.GetLower();
                second = both.GetUpper();
                return;
            }
            largest = Avx2.Max(largest, Vector256.Load(h) & Vector256.Create((ushort)0x7FFF));
            first = True8(h);
            second = True8(h + 8);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen8(byte* row, int c, ref Vector256<ushort> largest)
        {
            var h = (ushort*)row + c;
            largest = Avx2.Max(largest, Vector256.Create(Vector128.Load(h), Vector128<ushort>.Zero) & Vector256.Create((ushort)0x7FFF));
            return True8(h);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Widen1(byte* row, int c) => HalfConvert.ToSingle(((ushort*)row)[c]);

        /// <summary>
        /// Exact half to float without subnormal floats: a normal half re-biased in the exponent field (+112), a
        /// subnormal one converted from its integer mantissa times 2^-24; the sign put back. (Infinities and NaNs come
        /// out finite here; the kernels see them through <c>largest</c> and take the exact path.)
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> True8(ushort* h)
        {
            var raw = Avx2.ConvertToVector256Int32(h);
            var magnitude = raw & Vector256.Create(0x7FFF);
            var normal = (Avx2.ShiftLeftLogical(magnitude, 13) + Vector256.Create(0x38000000)).AsSingle();
            var subnormal = Avx.ConvertToVector256Single(magnitude) * Vector256.Create(5.9604644775390625e-8f); // 2^-24
            var isSubnormal = Avx2.CompareGreaterThan(Vector256.Create(0x400), magnitude).AsSingle();
            var value = Avx.BlendVariable(normal, subnormal, isSubnormal);
            return value | Avx2.ShiftLeftLogical(raw & Vector256.Create(0x8000), 16).AsSingle();
        }
    }

    private struct BF16Weights : IFloatWeights
    {
        public static GgmlType Type => GgmlType.BF16;
        public static int WeightBytes => 2;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen8(byte* row, int c, ref Vector256<ushort> largest) =>
            Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((ushort*)row + c), 16).AsSingle();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Widen16(byte* row, int c, ref Vector256<ushort> largest, out Vector256<float> first, out Vector256<float> second)
        {
            first = Widen8(row, c, ref largest);
            second = Widen8(row, c + 8, ref largest);
        }
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Widen1(byte* row, int c) => HalfConvert.FromBf16(((ushort*)row)[c]);
    }
}
