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
}
