using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q2_K</c>: 256 weights, 84 bytes, 2.625 bits per weight. Sixteen sub-blocks of 16 weights; sub-block
/// s has scale D * (Scales[s] &amp; 15) and min DMin * (Scales[s] &gt;&gt; 4), and weight = scale * q - min with a 2-bit q.
/// Codes: weight 128 h + 32 k + l (h &lt; 2, k &lt; 4, l &lt; 32) is bits 2k..2k+1 of Qs[32 h + l]; its sub-block is 8 h + 2 k + l / 16.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ2_K
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 84;

    /// <summary>Per sub-block: low nibble the 4-bit scale, high nibble the 4-bit min.</summary>
    public fixed byte Scales[16];
    /// <summary>2-bit codes, four per byte.</summary>
    public fixed byte Qs[64];
    /// <summary>Super-block scale for the scales, F16 bits.</summary>
    public ushort D;
    /// <summary>Super-block scale for the mins, F16 bits.</summary>
    public ushort DMin;

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q2_K");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ2_K*)p;
            for (int i = 0; i < nb; i++)
            {
                BlockQ2_K* b = blocks + i;
                float d = HalfConvert.ToSingle(b->D);
                float dmin = HalfConvert.ToSingle(b->DMin);
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int h = 0; h < 2; h++)
                {
                    for (int k = 0; k < 4; k++)
                    {
                        for (int half = 0; half < 2; half++)
                        {
                            byte sc = b->Scales[8 * h + 2 * k + half];
                            float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
                            for (int l = 16 * half; l < 16 * half + 16; l++)
                                y[128 * h + 32 * k + l] = dl * ((b->Qs[32 * h + l] >> (2 * k)) & 3) - ml;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// ggml's <c>quantize_row_q2_K_ref</c>: per sub-block an affine fit (|x|-weighted, least absolute deviation),
    /// 4-bit scales and mins relative to the largest of each, then codes re-rounded against the stored scales.
    /// </summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q2_K");
        Span<byte> levels = stackalloc byte[256];
        Span<byte> scratch = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                BlockQ2_K* b = (BlockQ2_K*)p + i;
                var x = src.Slice(i * BlockSize, BlockSize);
                float maxScale = 0, maxMin = 0;
                for (int j = 0; j < 16; j++)
                {
                    var xs = x.Slice(16 * j, 16);
                    for (int l = 0; l < 16; l++)
                        weights[l] = MathF.Abs(xs[l]);
                    scales[j] = KQuantSearch.Affine(xs, weights, 3, levels.Slice(16 * j, 16), out mins[j], scratch, -0.5f, 0.1f, 15, true);
                    if (scales[j] > maxScale) maxScale = scales[j];
                    if (mins[j] > maxMin) maxMin = mins[j];
                }
                if (maxScale > 0)
                {
                    float iscale = 15.0f / maxScale;
                    for (int j = 0; j < 16; j++)
                        b->Scales[j] = (byte)QuantMath.NearestInt(iscale * scales[j]);
                    b->D = HalfConvert.ToHalf(maxScale / 15.0f);
                }
                else
                {
                    for (int j = 0; j < 16; j++)
                        b->Scales[j] = 0;
                    b->D = HalfConvert.ToHalf(0.0f);
                }
                if (maxMin > 0)
                {
                    float iscale = 15.0f / maxMin;
                    for (int j = 0; j < 16; j++)
                        b->Scales[j] |= (byte)(QuantMath.NearestInt(iscale * mins[j]) << 4);
                    b->DMin = HalfConvert.ToHalf(maxMin / 15.0f);
                }
                else
                {
                    b->DMin = HalfConvert.ToHalf(0.0f);
                }
                for (int j = 0; j < 16; j++)
                {
                    float d = HalfConvert.ToSingle(b->D) * (b->Scales[j] & 0xF);
                    if (d == 0)
                        continue;
                    float dm = HalfConvert.ToSingle(b->DMin) * (b->Scales[j] >> 4);
                    for (int ii = 0; ii < 16; ii++)
                        levels[16 * j + ii] = (byte)Math.Clamp(QuantMath.NearestInt((x[16 * j + ii] + dm) / d), 0, 3);
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
}
