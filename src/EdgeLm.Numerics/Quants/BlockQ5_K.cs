using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q5_K</c>: 256 weights, 176 bytes, 5.5 bits per weight. Like <see cref="BlockQ4_K"/> with a fifth bit
/// per code: weight 64 c + l takes bit 2 c of Qh[l], weight 64 c + 32 + l takes bit 2 c + 1.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_K
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 176;

    /// <summary>Super-block scale for the scales, F16 bits.</summary>
    public ushort D;
    /// <summary>Super-block scale for the mins, F16 bits.</summary>
    public ushort DMin;
    /// <summary>Eight 6-bit scales and eight 6-bit mins, packed.</summary>
    public fixed byte Scales[12];
    /// <summary>Fifth bits of the codes.</summary>
    public fixed byte Qh[32];
    /// <summary>Low 4 bits of the codes.</summary>
    public fixed byte Qs[128];

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q5_K");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ5_K*)p;
            for (int i = 0; i < nb; i++)
            {
                BlockQ5_K* b = blocks + i;
                float d = HalfConvert.ToSingle(b->D);
                float dmin = HalfConvert.ToSingle(b->DMin);
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int c = 0; c < 4; c++)
                {
                    KScales.ScaleMin(2 * c, b->Scales, out int sc1, out int m1);
                    KScales.ScaleMin(2 * c + 1, b->Scales, out int sc2, out int m2);
                    float d1 = d * sc1, mm1 = dmin * m1, d2 = d * sc2, mm2 = dmin * m2;
                    for (int l = 0; l < 32; l++)
                    {
                        byte q = b->Qs[32 * c + l];
                        int h1 = ((b->Qh[l] >> (2 * c)) & 1) << 4;
                        int h2 = ((b->Qh[l] >> (2 * c + 1)) & 1) << 4;
                        y[64 * c + l] = d1 * ((q & 0xF) + h1) - mm1;
                        y[64 * c + 32 + l] = d2 * ((q >> 4) + h2) - mm2;
                    }
                }
            }
        }
    }

    /// <summary>ggml's <c>quantize_row_q5_K_ref</c>: as <see cref="BlockQ4_K"/> with 5-bit codes.</summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q5_K");
        Span<byte> levels = stackalloc byte[256];
        Span<byte> scratch = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                BlockQ5_K* b = (BlockQ5_K*)p + i;
                var x = src.Slice(i * BlockSize, BlockSize);
                float maxScale = 0, maxMin = 0;
                for (int j = 0; j < 8; j++)
                {
                    var xs = x.Slice(32 * j, 32);
                    float sumX2 = 0;
                    for (int l = 0; l < 32; l++)
                        sumX2 += xs[l] * xs[l];
                    float avX = MathF.Sqrt(sumX2 / 32);
                    for (int l = 0; l < 32; l++)
                        weights[l] = avX + MathF.Abs(xs[l]);
                    scales[j] = KQuantSearch.Affine(xs, weights, 31, levels.Slice(32 * j, 32), out mins[j], scratch, -0.5f, 0.1f, 15, false);
                    if (scales[j] > maxScale) maxScale = scales[j];
                    if (mins[j] > maxMin) maxMin = mins[j];
                }
                float invScale = maxScale > 0 ? 63.0f / maxScale : 0.0f;
                float invMin = maxMin > 0 ? 63.0f / maxMin : 0.0f;
                for (int j = 0; j < 8; j++)
                {
                    byte ls = Math.Min((byte)63, (byte)QuantMath.NearestInt(invScale * scales[j]));
                    byte lm = Math.Min((byte)63, (byte)QuantMath.NearestInt(invMin * mins[j]));
                    if (j < 4)
                    {
                        b->Scales[j] = ls;
                        b->Scales[j + 4] = lm;
                    }
                    else
                    {
                        b->Scales[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                        b->Scales[j - 4] |= (byte)((ls >> 4) << 6);
                        b->Scales[j] |= (byte)((lm >> 4) << 6);
                    }
                }
                b->D = HalfConvert.ToHalf(maxScale / 63.0f);
                b->DMin = HalfConvert.ToHalf(maxMin / 63.0f);
                for (int j = 0; j < 8; j++)
                {
                    KScales.ScaleMin(j, b->Scales, out int sc, out int m);
                    float d = HalfConvert.ToSingle(b->D) * sc;
                    if (d == 0)
                        continue;
                    float dm = HalfConvert.ToSingle(b->DMin) * m;
                    for (int ii = 0; ii < 32; ii++)
                        levels[32 * j + ii] = (byte)Math.Clamp(QuantMath.NearestInt((x[32 * j + ii] + dm) / d), 0, 31);
                }
                new Span<byte>(b->Qh, 32).Clear();
                for (int c = 0; c < 4; c++)
                {
                    for (int l = 0; l < 32; l++)
                    {
                        int l1 = levels[64 * c + l], l2 = levels[64 * c + l + 32];
                        if (l1 > 15) { l1 -= 16; b->Qh[l] |= (byte)(1 << (2 * c)); }
                        if (l2 > 15) { l2 -= 16; b->Qh[l] |= (byte)(2 << (2 * c)); }
                        b->Qs[32 * c + l] = (byte)(l1 | (l2 << 4));
                    }
                }
            }
        }
    }
}
