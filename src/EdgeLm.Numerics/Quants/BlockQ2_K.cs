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
}
