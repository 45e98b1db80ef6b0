using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q6_K</c>: 256 weights, 210 bytes, 6.5625 bits per weight. Sixteen sub-blocks of 16 weights with
/// signed 8-bit scales; weight = D * Scales[s] * (q - 32) with a 6-bit q. For h &lt; 2, l &lt; 32 and r &lt; 4, weight
/// 128 h + 32 r + l takes its low 4 bits from Ql[64 h + l + 32 (r &amp; 1)] (low nibble for r &lt; 2, high for r &gt;= 2)
/// and its top 2 bits from bits 2r..2r+1 of Qh[32 h + l]; its sub-block is 8 h + 2 r + l / 16.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 210;

    /// <summary>Low 4 bits of the codes.</summary>
    public fixed byte Ql[128];
    /// <summary>Top 2 bits of the codes, four per byte.</summary>
    public fixed byte Qh[64];
    /// <summary>Signed 8-bit sub-block scales.</summary>
    public fixed sbyte Scales[16];
    /// <summary>Super-block scale, F16 bits.</summary>
    public ushort D;

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q6_K");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ6_K*)p;
            for (int i = 0; i < nb; i++)
            {
                BlockQ6_K* b = blocks + i;
                float d = HalfConvert.ToSingle(b->D);
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int h = 0; h < 2; h++)
                {
                    for (int r = 0; r < 4; r++)
                    {
                        for (int l = 0; l < 32; l++)
                            y[128 * h + 32 * r + l] = d * b->Scales[8 * h + 2 * r + l / 16] * Code(b, h, r, l);
                    }
                }
            }
        }
    }

    /// <summary>The signed code (-32..31) of weight 128 h + 32 r + l.</summary>
    internal static int Code(BlockQ6_K* b, int h, int r, int l)
    {
        byte ql = b->Ql[64 * h + l + 32 * (r & 1)];
        int low = r < 2 ? ql & 0xF : ql >> 4;
        int high = (b->Qh[32 * h + l] >> (2 * r)) & 3;
        return (low | (high << 4)) - 32;
    }

    /// <summary>
    /// ggml's <c>quantize_row_q6_K_ref</c>: per 16-weight sub-block an x^2-weighted symmetric fit, 8-bit signed scales
    /// relative to the largest (mapped to -128), codes re-rounded against the stored scales.
    /// </summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q6_K");
        Span<sbyte> levels = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                BlockQ6_K* b = (BlockQ6_K*)p + i;
                var x = src.Slice(i * BlockSize, BlockSize);
                float maxScale = 0, maxAbsScale = 0;
                for (int s = 0; s < 16; s++)
                {
                    scales[s] = KQuantSearch.SymmetricWeighted(x.Slice(16 * s, 16), 32, levels.Slice(16 * s, 16));
                    float abs = MathF.Abs(scales[s]);
                    if (abs > maxAbsScale) { maxAbsScale = abs; maxScale = scales[s]; }
                }
                if (maxAbsScale < KQuantSearch.GroupMaxEps)
                {
                    new Span<byte>(b, ByteSize).Clear();
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
