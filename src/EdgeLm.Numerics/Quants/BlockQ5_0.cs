using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q5_0</c>: 32 weights, 22 bytes, 5.5 bits per weight. Weight j = D * (q_j - 16) with q_j a 5-bit
/// code: its low 4 bits packed like <see cref="BlockQ4_0"/>, its fifth bit is bit j of the little-endian
/// 32-bit word <see cref="Qh"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_0
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 22;

    /// <summary>Scale, F16 bits.</summary>
    public ushort D;
    /// <summary>Fifth bits of the 32 codes, little-endian, bit j for weight j.</summary>
    public fixed byte Qh[4];
    /// <summary>Low 4 bits of the codes.</summary>
    public fixed byte Qs[16];

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q5_0");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ5_0*)p;
            for (int i = 0; i < nb; i++)
            {
                float d = HalfConvert.ToSingle(blocks[i].D);
                uint qh = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(blocks[i].Qh, 4));
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int j = 0; j < 16; j++)
                {
                    byte q = blocks[i].Qs[j];
                    int h0 = (int)((qh >> j) & 1) << 4;
                    int h1 = (int)((qh >> (j + 16)) & 1) << 4;
                    y[j] = (((q & 0x0F) | h0) - 16) * d;
                    y[j + 16] = (((q >> 4) | h1) - 16) * d;
                }
            }
        }
    }

    /// <summary>Same bytes as ggml's <c>quantize_row_q5_0_ref</c>: scale from the signed value of largest magnitude, mapped to -16.</summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q5_0");
        fixed (byte* p = dst)
        {
            var blocks = (BlockQ5_0*)p;
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(i * BlockSize, BlockSize);
                float amax = 0, max = 0;
                for (int j = 0; j < BlockSize; j++)
                {
                    if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
                }
                float d = max / -16;
                float id = d != 0 ? 1.0f / d : 0.0f;
                blocks[i].D = HalfConvert.ToHalf(d);
                uint qh = 0;
                for (int j = 0; j < 16; j++)
                {
                    int q0 = Math.Min(31, (int)(x[j] * id + 16.5f));
                    int q1 = Math.Min(31, (int)(x[j + 16] * id + 16.5f));
                    blocks[i].Qs[j] = (byte)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
                    qh |= (uint)((q0 >> 4) & 1) << j;
                    qh |= (uint)((q1 >> 4) & 1) << (j + 16);
                }
                BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(blocks[i].Qh, 4), qh);
            }
        }
    }
}
