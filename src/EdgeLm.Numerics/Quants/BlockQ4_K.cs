using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q4_K</c>: 256 weights, 144 bytes, 4.5 bits per weight. Eight sub-blocks of 32 weights with 6-bit
/// (scale, min) pairs (see <see cref="KScales.ScaleMin"/>); weight = D * scale * q - DMin * min with a 4-bit q.
/// Weight 64 c + l (c &lt; 4, l &lt; 32) is the low nibble of Qs[32 c + l] (sub-block 2 c); weight 64 c + 32 + l is its
/// high nibble (sub-block 2 c + 1).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_K
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 144;

    /// <summary>Super-block scale for the scales, F16 bits.</summary>
    public ushort D;
    /// <summary>Super-block scale for the mins, F16 bits.</summary>
    public ushort DMin;
    /// <summary>Eight 6-bit scales and eight 6-bit mins, packed.</summary>
    public fixed byte Scales[12];
    /// <summary>4-bit codes.</summary>
    public fixed byte Qs[128];

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q4_K");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ4_K*)p;
            for (int i = 0; i < nb; i++)
            {
                BlockQ4_K* b = blocks + i;
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
                        y[64 * c + l] = d1 * (q & 0xF) - mm1;
                        y[64 * c + 32 + l] = d2 * (q >> 4) - mm2;
                    }
                }
            }
        }
    }
}
