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
}
