using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q8_1</c>: 32 weights, 36 bytes, 9 bits per weight. Like <see cref="BlockQ8_0"/> plus
/// S = D * sum(Qs), which lets a dot product with an offset format (Q4_1, Q5_1) apply the offset once per block.
/// The activation format for Q4_1 and Q5_1 weights.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_1
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 36;

    /// <summary>Scale, F16 bits.</summary>
    public ushort D;
    /// <summary>D times the sum of the codes, F16 bits.</summary>
    public ushort S;
    /// <summary>Signed 8-bit codes.</summary>
    public fixed sbyte Qs[32];

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q8_1");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ8_1*)p;
            for (int i = 0; i < nb; i++)
            {
                float d = HalfConvert.ToSingle(blocks[i].D);
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int j = 0; j < BlockSize; j++)
                    y[j] = blocks[i].Qs[j] * d;
            }
        }
    }

    /// <summary>Same bytes as ggml's <c>quantize_row_q8_1_ref</c>.</summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, activation: false);

    /// <summary>llama.cpp's x86 activation quantizer (127 / amax, round-half-even); see <see cref="BlockQ8_0.QuantizeActivations"/>.</summary>
    internal static void QuantizeActivations(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, activation: true);

    private static void Quantize(ReadOnlySpan<float> src, Span<byte> dst, bool activation)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q8_1");
        fixed (byte* p = dst)
        {
            var blocks = (BlockQ8_1*)p;
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(i * BlockSize, BlockSize);
                float amax = 0;
                for (int j = 0; j < BlockSize; j++)
                    amax = MathF.Max(amax, MathF.Abs(x[j]));
                float d = amax / 127;
                blocks[i].D = HalfConvert.ToHalf(d);
                int sum = 0;
                if (activation)
                {
                    float id = amax != 0 ? 127.0f / amax : 0.0f;
                    for (int j = 0; j < BlockSize; j++)
                    {
                        int q = QuantMath.NearestInt(x[j] * id);
                        blocks[i].Qs[j] = (sbyte)q;
                        sum += q;
                    }
                }
                else
                {
                    float id = d != 0 ? 1.0f / d : 0.0f;
                    for (int j = 0; j < BlockSize; j++)
                    {
                        int q = QuantMath.RoundAway(x[j] * id);
                        blocks[i].Qs[j] = (sbyte)q;
                        sum += q;
                    }
                }
                blocks[i].S = HalfConvert.ToHalf(sum * d);
            }
        }
    }
}
