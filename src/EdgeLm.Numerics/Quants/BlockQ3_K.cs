using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q3_K</c>: 256 weights, 110 bytes, 3.4375 bits per weight. Sixteen sub-blocks of 16 weights with
/// signed 6-bit scales (see <see cref="KScales.Q3Scale"/>); weight = D * scale * (q - 4) with a 3-bit q. Weight
/// 128 h + 32 k + l (h &lt; 2, k &lt; 4, l &lt; 32): low 2 bits are bits 2k..2k+1 of Qs[32 h + l], the high bit is bit
/// 4 h + k of HMask[l]; its sub-block is 8 h + 2 k + l / 16.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ3_K
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 110;

    /// <summary>High (third) bits of the codes.</summary>
    public fixed byte HMask[32];
    /// <summary>Low 2 bits of the codes, four per byte.</summary>
    public fixed byte Qs[64];
    /// <summary>Sixteen 6-bit scales, packed.</summary>
    public fixed byte Scales[12];
    /// <summary>Super-block scale, F16 bits.</summary>
    public ushort D;

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q3_K");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ3_K*)p;
            for (int i = 0; i < nb; i++)
            {
                BlockQ3_K* b = blocks + i;
                float dAll = HalfConvert.ToSingle(b->D);
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int h = 0; h < 2; h++)
                {
                    for (int k = 0; k < 4; k++)
                    {
                        int bit = 1 << (4 * h + k);
                        for (int half = 0; half < 2; half++)
                        {
                            float dl = dAll * KScales.Q3Scale(8 * h + 2 * k + half, b->Scales);
                            for (int l = 16 * half; l < 16 * half + 16; l++)
                            {
                                int q = ((b->Qs[32 * h + l] >> (2 * k)) & 3) - ((b->HMask[l] & bit) != 0 ? 0 : 4);
                                y[128 * h + 32 * k + l] = dl * q;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// ggml's <c>quantize_row_q3_K_ref</c>: per sub-block a refined symmetric fit, 6-bit signed scales relative to
    /// the largest, codes re-rounded against the stored scales, high bits split off into HMask.
    /// </summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q3_K");
        Span<sbyte> levels = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                BlockQ3_K* b = (BlockQ3_K*)p + i;
                var x = src.Slice(i * BlockSize, BlockSize);
                float maxScale = 0, amax = 0;
                for (int j = 0; j < 16; j++)
                {
                    scales[j] = KQuantSearch.SymmetricRefined(x.Slice(16 * j, 16), 4, levels.Slice(16 * j, 16));
                    float scale = MathF.Abs(scales[j]);
                    if (scale > amax) { amax = scale; maxScale = scales[j]; }
                }
                new Span<byte>(b->Scales, 12).Clear();
                if (maxScale != 0)
                {
                    float iscale = -32.0f / maxScale;
                    for (int j = 0; j < 16; j++)
                    {
                        int l = Math.Clamp((int)(sbyte)QuantMath.NearestInt(iscale * scales[j]), -32, 31) + 32;
                        if (j < 8)
                            b->Scales[j] = (byte)(l & 0xF);
                        else
                            b->Scales[j - 8] |= (byte)((l & 0xF) << 4);
                        b->Scales[j % 4 + 8] |= (byte)((l >> 4) << (2 * (j / 4)));
                    }
                    b->D = HalfConvert.ToHalf(1 / iscale);
                }
                else
                {
                    b->D = HalfConvert.ToHalf(0.0f);
                }
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
}
