using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q5_1</c>: 32 weights, 24 bytes, 6 bits per weight. Weight j = D * q_j + M with q_j a 5-bit code
/// stored like <see cref="BlockQ5_0"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_1
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 24;

    /// <summary>Scale, F16 bits.</summary>
    public ushort D;
    /// <summary>Offset (the block minimum), F16 bits.</summary>
    public ushort M;
    /// <summary>Fifth bits of the 32 codes, little-endian, bit j for weight j.</summary>
    public fixed byte Qh[4];
    /// <summary>Low 4 bits of the codes.</summary>
    public fixed byte Qs[16];

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q5_1");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ5_1*)p;
            for (int i = 0; i < nb; i++)
            {
                float d = HalfConvert.ToSingle(blocks[i].D);
                float m = HalfConvert.ToSingle(blocks[i].M);
                uint qh = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(blocks[i].Qh, 4));
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int j = 0; j < 16; j++)
                {
                    byte q = blocks[i].Qs[j];
                    int h0 = (int)((qh >> j) & 1) << 4;
                    int h1 = (int)((qh >> (j + 16)) & 1) << 4;
                    y[j] = ((q & 0x0F) | h0) * d + m;
                    y[j + 16] = ((q >> 4) | h1) * d + m;
                }
            }
        }
    }

    /// <summary>Same bytes as ggml's <c>quantize_row_q5_1_ref</c>: min/max range split into 31 steps.</summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q5_1");
        fixed (byte* p = dst)
        {
            var blocks = (BlockQ5_1*)p;
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(i * BlockSize, BlockSize);
                float min = float.MaxValue, max = -float.MaxValue;
                for (int j = 0; j < BlockSize; j++)
                {
                    if (x[j] < min) min = x[j];
                    if (x[j] > max) max = x[j];
                }
                float d = (max - min) / 31;
                float id = d != 0 ? 1.0f / d : 0.0f;
                blocks[i].D = HalfConvert.ToHalf(d);
                blocks[i].M = HalfConvert.ToHalf(min);
                uint qh = 0;
                for (int j = 0; j < 16; j++)
                {
                    // ggml truncates to uint8 without clamping; the codes stay within 0..31 for finite input.
                    int q0 = (byte)(int)((x[j] - min) * id + 0.5f);
                    int q1 = (byte)(int)((x[j + 16] - min) * id + 0.5f);
                    blocks[i].Qs[j] = (byte)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
                    qh |= (uint)((q0 >> 4) & 1) << j;
                    qh |= (uint)((q1 >> 4) & 1) << (j + 16);
                }
                BinaryPrimitives.WriteUInt32LittleEndian(new Span<byte>(blocks[i].Qh, 4), qh);
            }
        }
    }
}
