using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

// The k-quants with an importance vector (ggml's quantize_row_q{2..6}_K_impl). Each 256-weight super-block is
// quantized on its own; sigma^2 is the mean square of that super-block (doubled for Q3_K..Q5_K, as ggml does).
public static partial class ImportanceQuantize
{
    private static unsafe void Q2_K(ReadOnlySpan<float> src, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, BlockQ2_K.ByteSize, BlockQ2_K.BlockSize, "Q2_K");
        Span<byte> levels = stackalloc byte[256], scratch = stackalloc byte[16];
        Span<float> weight = stackalloc float[16], scales = stackalloc float[16], mins = stackalloc float[16], sw = stackalloc float[16];
        Span<byte> ls = stackalloc byte[16], lm = stackalloc byte[16];
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(256 * i, 256);
                var qw = importance.Slice(256 * i, 256);
                float sigma2 = SumOfSquares(x) / 256;
                for (int j = 0; j < 16; j++)
                {
                    var xs = x.Slice(16 * j, 16);
                    Weights(xs, qw.Slice(16 * j, 16), sigma2, weight);
                    float sum = 0;
                    for (int l = 0; l < 16; l++)
                        sum += weight[l];
                    sw[j] = sum;
                    scales[j] = KQuantSearch.Affine(xs, weight, 3, levels.Slice(16 * j, 16), out mins[j], scratch, -0.9f, 0.05f, 36);
                }
                var b = (BlockQ2_K*)p + i;
                b->D = HalfConvert.ToHalf(KQuantSearch.Positive(scales, 15, ls, sw));
                b->DMin = HalfConvert.ToHalf(KQuantSearch.Positive(mins, 15, lm, sw));
                float dm = HalfConvert.ToSingle(b->D), mm = HalfConvert.ToSingle(b->DMin);
                for (int j = 0; j < 16; j++)
                    b->Scales[j] = (byte)(ls[j] | (lm[j] << 4));
                for (int j = 0; j < 16; j++)
                {
                    float d = dm * (b->Scales[j] & 0xF);
                    if (d == 0)
                        continue;
                    float m = mm * (b->Scales[j] >> 4);
                    for (int ii = 0; ii < 16; ii++)
                        levels[16 * j + ii] = (byte)Math.Clamp(QuantMath.NearestInt((x[16 * j + ii] + m) / d), 0, 3);
                }
                for (int h = 0; h < 2; h++)
                {
                    for (int l = 0; l < 32; l++)
                    {
                        int j = 128 * h;
                        b->Qs[32 * h + l] = (byte)(levels[j + l] | (levels[j + l + 32] << 2) | (levels[j + l + 64] << 4) | (levels[j + l + 96] << 6));
                    }
                }
            }
        }
    }

    private static unsafe void Q3_K(ReadOnlySpan<float> src, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, BlockQ3_K.ByteSize, BlockQ3_K.BlockSize, "Q3_K");
        Span<sbyte> levels = stackalloc sbyte[256], ls = stackalloc sbyte[16];
        Span<float> weight = stackalloc float[16], scales = stackalloc float[16], sw = stackalloc float[16];
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(256 * i, 256);
                var qw = importance.Slice(256 * i, 256);
                float sigma2 = 2 * SumOfSquares(x) / 256;
                for (int j = 0; j < 16; j++)
                {
                    var xs = x.Slice(16 * j, 16);
                    Weights(xs, qw.Slice(16 * j, 16), sigma2, weight);
                    float sum = 0;
                    for (int l = 0; l < 16; l++)
                        sum += weight[l];
                    sw[j] = sum;
                    scales[j] = KQuantSearch.Symmetric(xs, 4, levels.Slice(16 * j, 16), weight);
                }
                var b = (BlockQ3_K*)p + i;
                new Span<byte>(b->Scales, 12).Clear();
                // The sixteen scales themselves get a weighted 6-bit symmetric fit (codes 0..63, bias 32).
                float dBlock = KQuantSearch.Symmetric(scales, 32, ls, sw);
                for (int j = 0; j < 16; j++)
                {
                    int l = ls[j];
                    if (j < 8)
                        b->Scales[j] = (byte)(l & 0xF);
                    else
                        b->Scales[j - 8] |= (byte)((l & 0xF) << 4);
                    b->Scales[j % 4 + 8] |= (byte)((l >> 4) << (2 * (j / 4)));
                }
                b->D = HalfConvert.ToHalf(dBlock);
                for (int j = 0; j < 16; j++)
                {
                    float d = HalfConvert.ToSingle(b->D) * KScales.Q3Scale(j, b->Scales);
                    if (d == 0)
                        continue;
                    for (int ii = 0; ii < 16; ii++)
                        levels[16 * j + ii] = (sbyte)(Math.Clamp(QuantMath.NearestInt(x[16 * j + ii] / d), -4, 3) + 4);
                }
                new Span<byte>(b->HMask, 32).Clear();
                for (int j = 0; j < 256; j++)
                {
                    // The high bit of weight j goes to HMask[j % 32], bit j / 32.
                    if (levels[j] > 3)
                    {
                        b->HMask[j % 32] |= (byte)(1 << (j / 32));
                        levels[j] -= 4;
                    }
                }
                for (int h = 0; h < 2; h++)
                {
                    for (int l = 0; l < 32; l++)
                    {
                        int j = 128 * h;
                        b->Qs[32 * h + l] = (byte)((byte)levels[j + l] | ((byte)levels[j + l + 32] << 2) | ((byte)levels[j + l + 64] << 4) | ((byte)levels[j + l + 96] << 6));
                    }
                }
            }
        }
    }

    private static unsafe void Q4_K(ReadOnlySpan<float> src, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, BlockQ4_K.ByteSize, BlockQ4_K.BlockSize, "Q4_K");
        Span<byte> levels = stackalloc byte[256];
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(256 * i, 256);
                var b = (BlockQ4_K*)p + i;
                FitScaleMinBlock(x, importance.Slice(256 * i, 256), 15, levels, out b->D, out b->DMin, b->Scales);
                for (int h = 0; h < 4; h++)
                {
                    for (int l = 0; l < 32; l++)
                        b->Qs[32 * h + l] = (byte)(levels[64 * h + l] | (levels[64 * h + l + 32] << 4));
                }
            }
        }
    }

    private static unsafe void Q5_K(ReadOnlySpan<float> src, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, BlockQ5_K.ByteSize, BlockQ5_K.BlockSize, "Q5_K");
        Span<byte> levels = stackalloc byte[256];
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(256 * i, 256);
                var b = (BlockQ5_K*)p + i;
                FitScaleMinBlock(x, importance.Slice(256 * i, 256), 31, levels, out b->D, out b->DMin, b->Scales);
                new Span<byte>(b->Qh, 32).Clear();
                for (int h = 0; h < 4; h++)
                {
                    // Weights 64 h + l and 64 h + 32 + l share byte l of the h-th quarter of Qs; their fifth bits are
                    // bits 2 h and 2 h + 1 of Qh[l].
                    for (int l = 0; l < 32; l++)
                    {
                        int l1 = levels[64 * h + l], l2 = levels[64 * h + l + 32];
                        if (l1 > 15) { l1 -= 16; b->Qh[l] |= (byte)(1 << (2 * h)); }
                        if (l2 > 15) { l2 -= 16; b->Qh[l] |= (byte)(2 << (2 * h)); }
                        b->Qs[32 * h + l] = (byte)(l1 | (l2 << 4));
                    }
                }
            }
        }
    }

    /// <summary>
    /// The shared part of Q4_K and Q5_K: a weighted affine fit per 32-weight sub-block, the eight scales and eight
    /// mins fitted to 6 bits each by <see cref="KQuantSearch.Positive"/>, packed as <see cref="KScales.ScaleMin"/>
    /// reads them, and codes 0..<paramref name="nmax"/> re-rounded against the stored scales.
    /// </summary>
    private static unsafe void FitScaleMinBlock(ReadOnlySpan<float> x, ReadOnlySpan<float> qw, int nmax, Span<byte> levels,
        out ushort dBits, out ushort dMinBits, byte* packed)
    {
        Span<byte> scratch = stackalloc byte[32], ls = stackalloc byte[8], lm = stackalloc byte[8];
        Span<float> weight = stackalloc float[32], scales = stackalloc float[8], mins = stackalloc float[8], sw = stackalloc float[8];
        float sigma2 = 2 * SumOfSquares(x) / 256;
        for (int j = 0; j < 8; j++)
        {
            var xs = x.Slice(32 * j, 32);
            Weights(xs, qw.Slice(32 * j, 32), sigma2, weight);
            float sum = 0;
            for (int l = 0; l < 32; l++)
                sum += weight[l];
            sw[j] = sum;
            scales[j] = KQuantSearch.Affine(xs, weight, nmax, levels.Slice(32 * j, 32), out mins[j], scratch, -0.9f, 0.05f, 36);
        }
        float dBlock = KQuantSearch.Positive(scales, 63, ls, sw);
        float mBlock = KQuantSearch.Positive(mins, 63, lm, sw);
        for (int j = 0; j < 8; j++)
        {
            byte s = Math.Min((byte)63, ls[j]), m = Math.Min((byte)63, lm[j]);
            if (j < 4)
            {
                packed[j] = s;
                packed[j + 4] = m;
            }
            else
            {
                packed[j + 4] = (byte)((s & 0xF) | ((m & 0xF) << 4));
                packed[j - 4] |= (byte)((s >> 4) << 6);
                packed[j] |= (byte)((m >> 4) << 6);
            }
        }
        dBits = HalfConvert.ToHalf(dBlock);
        dMinBits = HalfConvert.ToHalf(mBlock);
        float d0 = HalfConvert.ToSingle(dBits), m0 = HalfConvert.ToSingle(dMinBits);
        for (int j = 0; j < 8; j++)
        {
            KScales.ScaleMin(j, packed, out int sc, out int mn);
            float d = d0 * sc;
            if (d == 0)
                continue;
            float dm = m0 * mn;
            for (int ii = 0; ii < 32; ii++)
                levels[32 * j + ii] = (byte)Math.Clamp(QuantMath.NearestInt((x[32 * j + ii] + dm) / d), 0, nmax);
        }
    }

    private static unsafe void Q6_K(ReadOnlySpan<float> src, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, BlockQ6_K.ByteSize, BlockQ6_K.BlockSize, "Q6_K");
        Span<sbyte> levels = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(256 * i, 256);
                var qw = importance.Slice(256 * i, 256);
                BlockQ6_K* b = (BlockQ6_K*)p + i;
                float maxScale = 0, maxAbsScale = 0;
                for (int s = 0; s < 16; s++)
                {
                    // Q6_K weights its fit by the importance alone (no sqrt(sigma^2 + x^2) factor).
                    scales[s] = KQuantSearch.Symmetric(x.Slice(16 * s, 16), 32, levels.Slice(16 * s, 16), qw.Slice(16 * s, 16));
                    float abs = MathF.Abs(scales[s]);
                    if (abs > maxAbsScale) { maxAbsScale = abs; maxScale = scales[s]; }
                }
                if (maxAbsScale < KQuantSearch.GroupMaxEps)
                {
                    new Span<byte>(b, BlockQ6_K.ByteSize).Clear();
                    continue;
                }
                float iscale = -128.0f / maxScale;
                b->D = HalfConvert.ToHalf(1 / iscale);
                for (int s = 0; s < 16; s++)
                    b->Scales[s] = (sbyte)Math.Min(127, QuantMath.NearestInt(iscale * scales[s]));
                for (int s = 0; s < 16; s++)
                {
                    float d = HalfConvert.ToSingle(b->D) * b->Scales[s];
                    if (d == 0)
                        continue;
                    for (int ii = 0; ii < 16; ii++)
                        levels[16 * s + ii] = (sbyte)(Math.Clamp(QuantMath.NearestInt(x[16 * s + ii] / d), -32, 31) + 32);
                }
                for (int h = 0; h < 2; h++)
                {
                    for (int l = 0; l < 32; l++)
                    {
                        int j = 128 * h;
                        int q1 = levels[j + l], q2 = levels[j + l + 32], q3 = levels[j + l + 64], q4 = levels[j + l + 96];
                        b->Ql[64 * h + l] = (byte)((q1 & 0xF) | ((q3 & 0xF) << 4));
                        b->Ql[64 * h + l + 32] = (byte)((q2 & 0xF) | ((q4 & 0xF) << 4));
                        b->Qh[32 * h + l] = (byte)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
                    }
                }
            }
        }
    }
}
