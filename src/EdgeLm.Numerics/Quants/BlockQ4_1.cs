using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q4_1</c>: 32 weights, 20 bytes, 5 bits per weight. Weight j = D * q_j + M with q_j a 4-bit code,
/// packed like <see cref="BlockQ4_0"/> (low nibbles weights 0-15, high nibbles 16-31).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_1
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 20;

    /// <summary>Scale, F16 bits.</summary>
    public ushort D;
    /// <summary>Offset (the block minimum), F16 bits.</summary>
    public ushort M;
    /// <summary>Packed 4-bit codes.</summary>
    public fixed byte Qs[16];

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q4_1");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ4_1*)p;
            for (int i = 0; i < nb; i++)
            {
                float d = HalfConvert.ToSingle(blocks[i].D);
                float m = HalfConvert.ToSingle(blocks[i].M);
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int j = 0; j < 16; j++)
                {
                    byte q = blocks[i].Qs[j];
                    y[j] = (q & 0x0F) * d + m;
                    y[j + 16] = (q >> 4) * d + m;
                }
            }
        }
    }

    /// <summary>Same bytes as ggml's <c>quantize_row_q4_1_ref</c>: min/max range split into 15 steps.</summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q4_1");
        fixed (byte* p = dst)
        {
            var blocks = (BlockQ4_1*)p;
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(i * BlockSize, BlockSize);
                float min = float.MaxValue, max = -float.MaxValue;
                for (int j = 0; j < BlockSize; j++)
                {
                    if (x[j] < min) min = x[j];
                    if (x[j] > max) max = x[j];
                }
                float d = (max - min) / 15;
                float id = d != 0 ? 1.0f / d : 0.0f;
                blocks[i].D = HalfConvert.ToHalf(d);
                blocks[i].M = HalfConvert.ToHalf(min);
                for (int j = 0; j < 16; j++)
                {
                    int q0 = Math.Min(15, (int)((x[j] - min) * id + 0.5f));
                    int q1 = Math.Min(15, (int)((x[j + 16] - min) * id + 0.5f));
                    blocks[i].Qs[j] = (byte)(q0 | (q1 << 4));
                }
            }
        }
    }
}
