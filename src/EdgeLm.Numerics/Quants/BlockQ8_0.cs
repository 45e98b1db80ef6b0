using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q8_0</c>: 32 weights, 34 bytes, 8.5 bits per weight. Weight j = D * Qs[j]. Also the activation
/// format for Q4_0, Q5_0 and Q8_0 weights.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 32;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 34;

    /// <summary>Scale, F16 bits.</summary>
    public ushort D;
    /// <summary>Signed 8-bit codes.</summary>
    public fixed sbyte Qs[32];

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q8_0");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ8_0*)p;
            for (int i = 0; i < nb; i++)
            {
                float d = HalfConvert.ToSingle(blocks[i].D);
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int j = 0; j < BlockSize; j++)
                    y[j] = blocks[i].Qs[j] * d;
            }
        }
    }

    /// <summary>Same bytes as ggml's <c>quantize_row_q8_0_ref</c>: d = amax / 127, codes = roundf(x / d).</summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, activation: false);

    /// <summary>
    /// The activation quantizer llama.cpp's x86 CPU backend runs (<c>quantize_row_q8_0</c>, AVX2): multiplier
    /// 127 / amax and round-half-even. It differs from the reference in the last bit of a few codes.
    /// </summary>
    internal static void QuantizeActivations(ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (Kernels.ActivationQuantizer.IsAccelerated)
            Kernels.ActivationQuantizer.QuantizeQ8_0(src, dst);
        else
            QuantizeActivationsReference(src, dst);
    }

    /// <summary>The scalar reference of <see cref="QuantizeActivations"/>: the oracle of the vectorised quantizer and its fallback.</summary>
    internal static void QuantizeActivationsReference(ReadOnlySpan<float> src, Span<byte> dst) => Quantize(src, dst, activation: true);

    private static void Quantize(ReadOnlySpan<float> src, Span<byte> dst, bool activation)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q8_0");
        fixed (byte* p = dst)
        {
            var blocks = (BlockQ8_0*)p;
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(i * BlockSize, BlockSize);
                float amax = 0;
                for (int j = 0; j < BlockSize; j++)
                    amax = MathF.Max(amax, MathF.Abs(x[j]));
                float d = amax / 127;
                blocks[i].D = HalfConvert.ToHalf(d);
                if (activation)
                {
                    float id = amax != 0 ? 127.0f / amax : 0.0f;
                    for (int j = 0; j < BlockSize; j++)
                        blocks[i].Qs[j] = (sbyte)QuantMath.NearestInt(x[j] * id);
                }
                else
                {
                    float id = d != 0 ? 1.0f / d : 0.0f;
                    for (int j = 0; j < BlockSize; j++)
                        blocks[i].Qs[j] = (sbyte)QuantMath.RoundAway(x[j] * id);
                }
            }
        }
    }
}
