using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// The AVX-512 float panel: eight rows widened once, stored as four row pairs with their columns interleaved eight at
/// a time (16 floats = columns 8j..8j+7 of row 2p, then of row 2p + 1), so that one 512-bit fused multiply-add
/// serves two rows against the token's eight activations broadcast to both halves. Every lane sees the very
/// operations of <see cref="FloatPanelTokens{TS}"/> in the same order, so results are bit-identical.
/// </summary>
internal static unsafe partial class X86Tiles
{
    /// <summary>True when the 512-bit float panel runs here.</summary>
    internal static bool HasFloatPanel512 => UsesAvx512;

    /// <summary>Eight rows against several tokens (see <see cref="FloatPanel{TW}"/>), four pairs x four tokens per step.</summary>
    private static void FloatPanel512<TW>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns, int tokens, byte* panel)
        where TW : struct, IFloatWeights
    {
        int full = columns & ~7, rest = columns - full;
        var pairs = (float*)panel;          // 4 pairs x 2 * full floats
        float* tails = pairs + 8L * full;   // 8 rows x rest floats
        int exactPairs = 0;
        for (int pair = 0; pair < 4; pair++)
        {
            Vector256<ushort> largest = default;
            byte* row0 = w + 2 * pair * wStride, row1 = row0 + wStride;
            float* dst = pairs + 2L * pair * full;
            int c = 0;
            if (TW.Type == GgmlType.F16)
            {
                // Sixteen halves of each row per step in 512-bit registers, regrouped into the pair layout.
                for (; c + 16 <= full; c += 16)
                {
                    var w0 = TrueHalves16((ushort*)row0 + c, ref largest);
                    var w1 = TrueHalves16((ushort*)row1 + c, ref largest);
                    Vector512.Create(w0.GetLower(), w1.GetLower()).Store(dst + 2 * c);
                    Vector512.Create(w0.GetUpper(), w1.GetUpper()).Store(dst + 2 * c + 16);
                }
            }
            for (; c < full; c += 8)
            {
                TW.Widen8(row0, c, ref largest).Store(dst + 2 * c);
                TW.Widen8(row1, c, ref largest).Store(dst + 2 * c + 8);
            }
            for (c = full; c < columns; c++)
            {
                tails[2 * pair * rest + c - full] = TW.Widen1(row0, c);
                tails[(2 * pair + 1) * rest + c - full] = TW.Widen1(row1, c);
            }
            if (TW.Type == GgmlType.F16 && Vector256.GreaterThanOrEqualAny(largest, Vector256.Create((ushort)0x7C00)))
                exactPairs |= 1 << pair;
        }
        for (int t0 = 0; t0 < tokens; t0 += 4)
        {
            byte* at = a + t0 * aStride;
            float* yt = y + t0 * yStride;
            switch (Math.Min(4, tokens - t0))
            {
                case 4: FloatPanel512Tokens<Tile1x4>(pairs, tails, full, rest, at, aStride, yt, yStride); break;
                case 3: FloatPanel512Tokens<Tile1x3>(pairs, tails, full, rest, at, aStride, yt, yStride); break;
                case 2: FloatPanel512Tokens<Tile1x2>(pairs, tails, full, rest, at, aStride, yt, yStride); break;
                default: FloatPanel512Tokens<Tile1x1>(pairs, tails, full, rest, at, aStride, yt, yStride); break;
            }
        }
        if (exactPairs == 0)
            return;
        // A pair holding an F16 infinity or NaN: redo its outputs with exact widening.
        for (int pair = 0; pair < 4; pair++)
        {
            if ((exactPairs & (1 << pair)) == 0)
                continue;
            for (int t = 0; t < tokens; t++)
                FloatTileExact<TW, Tile2x1>(w + 2 * pair * wStride, wStride, a + t * aStride, aStride, y + t * yStride + 2 * pair, yStride, columns);
        }
    }

    /// <summary>
    /// Sixteen halves to their float values without subnormal floats (F16Weights.True8's results, but for -0, which
    /// comes out +0: the same in every product the kernels add, whose sums start at +0); tracks the largest magnitude
    /// (infinities and NaNs come out finite here; the caller checks). Eight vector operations after the load:
    /// <list type="bullet">
    /// <item>sign-extend, shift by 13 and mask: the sign lands in bit 31, exponent and mantissa in bits 13..27;</item>
    /// <item>add 112 to the exponent: the exact value of every normal half;</item>
    /// <item>zero and subnormal halves (exponent 0) get 113 instead, which makes the float ±(2^-14 + m 2^-24), then
    /// lose ±2^-14 (their own sign and exponent bits, mantissa cleared): ±m 2^-24, exactly (Sterbenz), and
    /// never subnormal (a subnormal half's magnitude is at least 2^-24, a normal float).</item>
    /// </list>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TrueHalves16(ushort* h, ref Vector256<ushort> largest)
    {
        var halves = Vector256.Load(h);
        largest = Avx2.Max(largest, halves & Vector256.Create((ushort)0x7FFF));
        var raw = Avx512F.ConvertToVector512Int32(halves.AsInt16());
        var bits = ((raw << 13) & Vector512.Create(unchecked((int)0x8FFFE000))) + Vector512.Create(0x38000000);
        var rebiased = bits + Vector512.Create(0x00800000);
        var offset = (rebiased & Vector512.Create(unchecked((int)0xFF800000))).AsSingle();
        return Vector512.ConditionalSelect(Vector512.Equals(raw & Vector512.Create(0x7C00), Vector512<int>.Zero).AsSingle(),
            rebiased.AsSingle() - offset, bits.AsSingle());
    }

    /// <summary>Eight widened rows (as four interleaved pairs) against TS.Tokens tokens: y[r + t * yStride].</summary>
    [SkipLocalsInit]
    private static void FloatPanel512Tokens<TS>(float* pairs, float* tails, int full, int rest, byte* a, long aStride, float* y, long yStride)
        where TS : struct, ITileShape
    {
        var x0 = (float*)a;
        var x1 = (float*)(a + aStride);
        var x2 = (float*)(a + 2 * aStride);
        var x3 = (float*)(a + 3 * aStride);
        float* p0 = pairs, p1 = pairs + 2L * full, p2 = pairs + 4L * full, p3 = pairs + 6L * full;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        for (int c = 0; c < full; c += 8)
        {
            var w0 = Vector512.Load(p0 + 2 * c);
            var w1 = Vector512.Load(p1 + 2 * c);
            var w2 = Vector512.Load(p2 + 2 * c);
            var w3 = Vector512.Load(p3 + 2 * c);
            var t = Both(x0 + c);
            a00 = Avx512F.FusedMultiplyAdd(w0, t, a00);
            a10 = Avx512F.FusedMultiplyAdd(w1, t, a10);
            a20 = Avx512F.FusedMultiplyAdd(w2, t, a20);
            a30 = Avx512F.FusedMultiplyAdd(w3, t, a30);
            if (TS.Tokens >= 2)
            {
                t = Both(x1 + c);
                a01 = Avx512F.FusedMultiplyAdd(w0, t, a01);
                a11 = Avx512F.FusedMultiplyAdd(w1, t, a11);
                a21 = Avx512F.FusedMultiplyAdd(w2, t, a21);
                a31 = Avx512F.FusedMultiplyAdd(w3, t, a31);
            }
            if (TS.Tokens >= 3)
            {
                t = Both(x2 + c);
                a02 = Avx512F.FusedMultiplyAdd(w0, t, a02);
                a12 = Avx512F.FusedMultiplyAdd(w1, t, a12);
                a22 = Avx512F.FusedMultiplyAdd(w2, t, a22);
                a32 = Avx512F.FusedMultiplyAdd(w3, t, a32);
            }
            if (TS.Tokens >= 4)
            {
                t = Both(x3 + c);
                a03 = Avx512F.FusedMultiplyAdd(w0, t, a03);
                a13 = Avx512F.FusedMultiplyAdd(w1, t, a13);
                a23 = Avx512F.FusedMultiplyAdd(w2, t, a23);
                a33 = Avx512F.FusedMultiplyAdd(w3, t, a33);
            }
        }
        StorePairs(a00, a10, a20, a30, tails, full, rest, x0, y);
        if (TS.Tokens >= 2)
            StorePairs(a01, a11, a21, a31, tails, full, rest, x1, y + yStride);
        if (TS.Tokens >= 3)
            StorePairs(a02, a12, a22, a32, tails, full, rest, x2, y + 2 * yStride);
        if (TS.Tokens >= 4)
            StorePairs(a03, a13, a23, a33, tails, full, rest, x3, y + 3 * yStride);
    }

    /// <summary>One token's eight outputs: each half's lanes summed as <see cref="Sum8"/> does, plus the row's tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePairs(Vector512<float> p0, Vector512<float> p1, Vector512<float> p2, Vector512<float> p3,
        float* tails, int full, int rest, float* x, float* y)
    {
        y[0] = Sum8(p0.GetLower()) + PanelTail(tails - full, x, full, full + rest);
        y[1] = Sum8(p0.GetUpper()) + PanelTail(tails + rest - full, x, full, full + rest);
        y[2] = Sum8(p1.GetLower()) + PanelTail(tails + 2 * rest - full, x, full, full + rest);
        y[3] = Sum8(p1.GetUpper()) + PanelTail(tails + 3 * rest - full, x, full, full + rest);
        y[4] = Sum8(p2.GetLower()) + PanelTail(tails + 4 * rest - full, x, full, full + rest);
        y[5] = Sum8(p2.GetUpper()) + PanelTail(tails + 5 * rest - full, x, full, full + rest);
        y[6] = Sum8(p3.GetLower()) + PanelTail(tails + 6 * rest - full, x, full, full + rest);
        y[7] = Sum8(p3.GetUpper()) + PanelTail(tails + 7 * rest - full, x, full, full + rest);
    }

    /// <summary>
    /// Eight floats at <paramref name="p"/> in both halves. Not with Avx512F.BroadcastVector256ToVector512: the .NET 10
    /// JIT compresses a constant displacement of that load (EVEX disp8 * N) as if the operand were 16 bytes, so
    /// <c>p + 4</c> reads from p + 8 (seen on 10.0.12).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Both(float* p)
    {
        var v = Vector256.Load(p);
        return Avx512F.InsertVector256(v.ToVector512Unsafe(), v, 1);
    }
}
