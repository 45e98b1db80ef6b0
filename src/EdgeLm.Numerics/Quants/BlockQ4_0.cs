using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q4_0</c>: 32 weights, 18 bytes, 4.5 bits per weight. Weight j = D * (q_j - 8) with q_j a 4-bit
/// code: the low nibble of <see cref="Qs"/>[j] for j &lt; 16, the high nibble of Qs[j - 16] otherwise.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 18;

    /// <summary>Scale, F16 bits.</summary>
    public ushort D;
    /// <summary>Packed 4-bit codes (see the type's remarks for the order).</summary>
    public fixed byte Qs[16];

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q4_0");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ4_0*)p;
            for (int i = 0; i < nb; i++)
            {
                float d = HalfConvert.ToSingle(blocks[i].D);
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int j = 0; j < 16; j++)
                {
                    byte q = blocks[i].Qs[j];
                    y[j] = ((q & 0x0F) - 8) * d;
                    y[j + 16] = ((q >> 4) - 8) * d;
                }
            }
        }
    }

    /// <summary>Same bytes as ggml's <c>quantize_row_q4_0_ref</c>: scale from the signed value of largest magnitude, mapped to -8.</summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q4_0");
        fixed (byte* p = dst)
        {
            var blocks = (BlockQ4_0*)p;
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(i * BlockSize, BlockSize);
                float amax = 0, max = 0;
                for (int j = 0; j < BlockSize; j++)
                {
                    if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
                }
                float d = max / -8;
                float id = d != 0 ? 1.0f / d : 0.0f;
                blocks[i].D = HalfConvert.ToHalf(d);
                for (int j = 0; j < 16; j++)
                {
                    // Truncation after +8.5 is ggml's rounding here (values are never negative).
                    int q0 = Math.Min(15, (int)(x[j] * id + 8.5f));
                    int q1 = Math.Min(15, (int)(x[j + 16] * id + 8.5f));
                    blocks[i].Qs[j] = (byte)(q0 | (q1 << 4));
                }
            }
        }
    }
}
