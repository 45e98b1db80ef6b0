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
}
