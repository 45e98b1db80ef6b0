using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// The AVX-512 panel of the legacy formats: sixteen rows against any number of tokens, one 512-bit lane per row.
/// Panel of one block: 8 steps x 64 bytes (step m: lane r = codes 4m..4m+3 of row r), then 16 floats D and 16
/// floats M. Per block and token, the exact integer sums of the sixteen rows, then the float steps of
/// <see cref="LegacyPanelTokens{TW, TS}"/> lane for lane, so every output is bit-identical to the eight-row panel's
/// and to <see cref="LegacyRow1{TW}"/>.
/// </summary>
/// <remarks>
/// .NET 10 has no 512-bit vpdpbusd (AVX512-VNNI's <c>AvxVnni.V512</c> arrives in .NET 11), so the integer sums take
/// one of two routes. Nibble formats: vpmaddubsw on all sixteen rows, pair sums added in 16 bits over
/// <see cref="ILegacyWeights.PanelGroup"/> steps, then widened with vpmaddwd. Q8_0 (whose pairs overflow 16 bits):
/// two 256-bit vpdpbusd chains, rows 0-7 and 8-15, joined into one register for the float steps. (The 256-bit
/// vpdpbusd route for the nibble formats as well measured about 1.4x slower than vpmaddubsw on 512 bits.)
/// </remarks>
internal static unsafe partial class X86Tiles
{
    private const int Panel16BlockBytes = 8 * 64 + 16 * sizeof(float) + 16 * sizeof(float);

    /// <summary>True when the sixteen-row legacy panel runs here (AVX-512 F + BW; Q8_0 also needs AVX-VNNI).</summary>
    internal static bool HasLegacyPanel16<TW>() where TW : struct, ILegacyWeights =>
        UsesAvx512 && (TW.PanelGroup > 1 || AvxVnni.IsSupported);

    private static int LegacyPanel16Bytes(int columns) => columns / 32 * Panel16BlockBytes;

    /// <summary>
    /// Sixteen rows against <paramref name="tokens"/> tokens: the rows' codes transposed into <paramref name="panel"/>
    /// (<see cref="LegacyPanel16Bytes"/>), then every four tokens against it. Writes y[t * yStride + r] for r &lt; 16.
    /// </summary>
    private static void LegacyPanel16<TW>(byte* w, long wStride, byte* a, long aStride, float* y, long yStride, int columns, int tokens, byte* panel)
        where TW : struct, ILegacyWeights
    {
        int nb = columns / 32;
        byte* w8 = w + 8 * wStride;
        for (int b = 0; b < nb; b++)
        {
            byte* block = w + (long)b * TW.BlockBytes;
            byte* block8 = w8 + (long)b * TW.BlockBytes;
            byte* p = panel + (long)b * Panel16BlockBytes;
            Transpose8(
                TW.PanelCodes(block), TW.PanelCodes(block + wStride), TW.PanelCodes(block + 2 * wStride), TW.PanelCodes(block + 3 * wStride),
                TW.PanelCodes(block + 4 * wStride), TW.PanelCodes(block + 5 * wStride), TW.PanelCodes(block + 6 * wStride), TW.PanelCodes(block + 7 * wStride),
                (int*)p, 16);
            Transpose8(
                TW.PanelCodes(block8), TW.PanelCodes(block8 + wStride), TW.PanelCodes(block8 + 2 * wStride), TW.PanelCodes(block8 + 3 * wStride),
                TW.PanelCodes(block8 + 4 * wStride), TW.PanelCodes(block8 + 5 * wStride), TW.PanelCodes(block8 + 6 * wStride), TW.PanelCodes(block8 + 7 * wStride),
                (int*)p + 8, 16);
            var heads = RowHeads(block, wStride);
            var heads8 = RowHeads(block8, wStride);
            HeadScales(heads).Store((float*)(p + 512));
            HeadScales(heads8).Store((float*)(p + 512) + 8);
            (TW.HasMin ? HeadMins(heads) : Vector256<float>.Zero).Store((float*)(p + 576));
            (TW.HasMin ? HeadMins(heads8) : Vector256<float>.Zero).Store((float*)(p + 576) + 8);
        }
        int t = 0;
        for (; t + 4 <= tokens; t += 4)
            LegacyPanel16Tokens<TW, Tile1x4>(panel, nb, a + t * aStride, aStride, y + t * yStride, yStride);
        switch (tokens - t)
        {
            case 3: LegacyPanel16Tokens<TW, Tile1x3>(panel, nb, a + t * aStride, aStride, y + t * yStride, yStride); break;
            case 2: LegacyPanel16Tokens<TW, Tile1x2>(panel, nb, a + t * aStride, aStride, y + t * yStride, yStride); break;
            case 1: LegacyPanel16Tokens<TW, Tile1x1>(panel, nb, a + t * aStride, aStride, y + t * yStride, yStride); break;
        }
    }

    /// <summary>1-4 tokens (TS.Tokens) against a built sixteen-row panel.</summary>
    [SkipLocalsInit]
    private static void LegacyPanel16Tokens<TW, TS>(byte* panel, int nb, byte* a, long aStride, float* y, long yStride)
        where TW : struct, ILegacyWeights where TS : struct, ITileShape
    {
        byte* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        long scalesAt = (long)nb * 64, sumsAt = (long)nb * 68, codeSumsAt = (long)nb * 72;
        for (int b = 0; b < nb; b++)
        {
            byte* p = panel + (long)b * Panel16BlockBytes;
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            if (TW.PanelGroup == 1)
            {
                // Q8_0: 256-bit vpdpbusd, rows 0-7 and rows 8-15 against the same broadcast activations.
                Vector256<int> l0 = default, l1 = default, l2 = default, l3 = default;
                Vector256<int> h0 = default, h1 = default, h2 = default, h3 = default;
                for (int m = 0; m < 8; m++)
                {
                    var lo = Vector256.Load(p + 64 * m);
                    var hi = Vector256.Load(p + 64 * m + 32);
                    int o = 32 * b + 4 * m;
                    var x = Broadcast4(a + o);
                    l0 = AvxVnni.MultiplyWideningAndAdd(l0, lo, x);
                    h0 = AvxVnni.MultiplyWideningAndAdd(h0, hi, x);
                    if (TS.Tokens >= 2)
                    {
                        x = Broadcast4(a1 + o);
                        l1 = AvxVnni.MultiplyWideningAndAdd(l1, lo, x);
                        h1 = AvxVnni.MultiplyWideningAndAdd(h1, hi, x);
                    }
                    if (TS.Tokens >= 3)
                    {
                        x = Broadcast4(a2 + o);
                        l2 = AvxVnni.MultiplyWideningAndAdd(l2, lo, x);
                        h2 = AvxVnni.MultiplyWideningAndAdd(h2, hi, x);
                    }
                    if (TS.Tokens >= 4)
                    {
                        x = Broadcast4(a3 + o);
                        l3 = AvxVnni.MultiplyWideningAndAdd(l3, lo, x);
                        h3 = AvxVnni.MultiplyWideningAndAdd(h3, hi, x);
                    }
                }
                i0 = Vector512.Create(l0, h0);
                i1 = Vector512.Create(l1, h1);
                i2 = Vector512.Create(l2, h2);
                i3 = Vector512.Create(l3, h3);
            }
            else
            {
                // Steps 0-3 and 4-7, written out (the JIT keeps loops of eight; about 5% faster); pair sums stay
                // in 16 bits for PanelGroup steps, then widen.
                var one = Vector512.Create((short)1);
                Vector512<short> s0 = default, s1 = default, s2 = default, s3 = default;
                int o = 32 * b;
                Steps4<TS>(p, 0, a + o, a1 + o, a2 + o, a3 + o, ref s0, ref s1, ref s2, ref s3);
                if (TW.PanelGroup == 4)
                    Widen<TS>(one, ref s0, ref s1, ref s2, ref s3, ref i0, ref i1, ref i2, ref i3);
                Steps4<TS>(p, 4, a + o, a1 + o, a2 + o, a3 + o, ref s0, ref s1, ref s2, ref s3);
                Widen<TS>(one, ref s0, ref s1, ref s2, ref s3, ref i0, ref i1, ref i2, ref i3);
            }
            var scales = Vector512.Load((float*)(p + 512));
            var mins = TW.HasMin ? Vector512.Load((float*)(p + 576)) : default;
            acc0 = Panel16Finish<TW>(acc0, i0, scales, mins, a, b, scalesAt, sumsAt, codeSumsAt);
            if (TS.Tokens >= 2)
                acc1 = Panel16Finish<TW>(acc1, i1, scales, mins, a1, b, scalesAt, sumsAt, codeSumsAt);
            if (TS.Tokens >= 3)
                acc2 = Panel16Finish<TW>(acc2, i2, scales, mins, a2, b, scalesAt, sumsAt, codeSumsAt);
            if (TS.Tokens >= 4)
                acc3 = Panel16Finish<TW>(acc3, i3, scales, mins, a3, b, scalesAt, sumsAt, codeSumsAt);
        }
        acc0.Store(y);
        if (TS.Tokens >= 2)
            acc1.Store(y + yStride);
        if (TS.Tokens >= 3)
            acc2.Store(y + 2 * yStride);
        if (TS.Tokens >= 4)
            acc3.Store(y + 3 * yStride);
    }

    /// <summary>Panel steps m0..m0+3 of one block (64 bytes each) against each token's codes 4m..4m+3, pair sums added in 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Steps4<TS>(byte* p, int m0, byte* a0, byte* a1, byte* a2, byte* a3,
        ref Vector512<short> s0, ref Vector512<short> s1, ref Vector512<short> s2, ref Vector512<short> s3) where TS : struct, ITileShape
    {
        Step<TS>(p, m0, a0, a1, a2, a3, ref s0, ref s1, ref s2, ref s3);
        Step<TS>(p, m0 + 1, a0, a1, a2, a3, ref s0, ref s1, ref s2, ref s3);
        Step<TS>(p, m0 + 2, a0, a1, a2, a3, ref s0, ref s1, ref s2, ref s3);
        Step<TS>(p, m0 + 3, a0, a1, a2, a3, ref s0, ref s1, ref s2, ref s3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TS>(byte* p, int m, byte* a0, byte* a1, byte* a2, byte* a3,
        ref Vector512<short> s0, ref Vector512<short> s1, ref Vector512<short> s2, ref Vector512<short> s3) where TS : struct, ITileShape
    {
        var wm = Vector512.Load(p + 64 * m);
        s0 += Avx512BW.MultiplyAddAdjacent(wm, Broadcast4x16(a0 + 4 * m));
        if (TS.Tokens >= 2)
            s1 += Avx512BW.MultiplyAddAdjacent(wm, Broadcast4x16(a1 + 4 * m));
        if (TS.Tokens >= 3)
            s2 += Avx512BW.MultiplyAddAdjacent(wm, Broadcast4x16(a2 + 4 * m));
        if (TS.Tokens >= 4)
            s3 += Avx512BW.MultiplyAddAdjacent(wm, Broadcast4x16(a3 + 4 * m));
    }

    /// <summary>Adds the 16-bit pair sums, widened to 32 bits, to the integer sums and clears them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Widen<TS>(Vector512<short> one, ref Vector512<short> s0, ref Vector512<short> s1, ref Vector512<short> s2, ref Vector512<short> s3,
        ref Vector512<int> i0, ref Vector512<int> i1, ref Vector512<int> i2, ref Vector512<int> i3) where TS : struct, ITileShape
    {
        i0 += Avx512BW.MultiplyAddAdjacent(s0, one);
        s0 = default;
        if (TS.Tokens >= 2)
        {
            i1 += Avx512BW.MultiplyAddAdjacent(s1, one);
            s1 = default;
        }
        if (TS.Tokens >= 3)
        {
            i2 += Avx512BW.MultiplyAddAdjacent(s2, one);
            s2 = default;
        }
        if (TS.Tokens >= 4)
        {
            i3 += Avx512BW.MultiplyAddAdjacent(s3, one);
            s3 = default;
        }
    }

    /// <summary><see cref="PanelFinish{TW}"/> over sixteen rows: the same operations in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Panel16Finish<TW>(Vector512<float> acc, Vector512<int> isum, Vector512<float> scales, Vector512<float> mins,
        byte* act, int b, long scalesAt, long sumsAt, long codeSumsAt) where TW : struct, ILegacyWeights
    {
        if (TW.PanelBiasShift >= 0)
            isum -= Vector512.Create(((int*)(act + codeSumsAt))[b] << TW.PanelBiasShift);
        acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), scales * Vector512.Create(((float*)(act + scalesAt))[b]), acc);
        if (TW.HasMin)
            acc = Avx512F.FusedMultiplyAdd(mins, Vector512.Create(((float*)(act + sumsAt))[b]), acc);
        return acc;
    }

    /// <summary>Four activation bytes broadcast to all sixteen 32-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Broadcast4x16(byte* p) => Vector512.Create(Unsafe.ReadUnaligned<int>(p)).AsSByte();
}
