using System.Runtime.InteropServices;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// ggml <c>block_q8_K</c>: 256 weights, 292 bytes, 9.125 bits per weight. Weight j = D * Qs[j] with a float32
/// scale; <see cref="BSums"/> holds the sum of each group of 16 codes. Never stored in model files: it is the
/// activation format for the k-quants (Q2_K..Q6_K).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_K
{
    /// <summary>Weights per block.</summary>
    public const int BlockSize = 256;
    /// <summary>Bytes per block.</summary>
    public const int ByteSize = 292;

    /// <summary>Scale (float32, not F16).</summary>
    public float D;
    /// <summary>Signed 8-bit codes, within -127..127.</summary>
    public fixed sbyte Qs[256];
    /// <summary>BSums[g] = sum of Qs[16 g .. 16 g + 15].</summary>
    public fixed short BSums[16];

    internal static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = QuantMath.CheckBlocks(src.Length, dst.Length, ByteSize, BlockSize, "Q8_K");
        fixed (byte* p = src)
        {
            var blocks = (BlockQ8_K*)p;
            for (int i = 0; i < nb; i++)
            {
                float d = blocks[i].D;
                var y = dst.Slice(i * BlockSize, BlockSize);
                for (int j = 0; j < BlockSize; j++)
                    y[j] = d * blocks[i].Qs[j];
            }
        }
    }

    /// <summary>
    /// Same bytes as ggml's <c>quantize_row_q8_K_ref</c> (which llama.cpp's x86 backend also uses for
    /// activations): the signed value of largest magnitude maps to -127, codes round half to even. An all-zero
    /// block gets D = 0 and zero codes and sums.
    /// </summary>
    internal static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (Kernels.ActivationQuantizer.IsAccelerated)
            Kernels.ActivationQuantizer.QuantizeQ8K(src, dst);
        else
            QuantizeReference(src, dst);
    }

    /// <summary>The scalar reference of <see cref="Quantize"/>: the oracle of the vectorised quantizer and its fallback.</summary>
    internal static void QuantizeReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, ByteSize, BlockSize, "Q8_K");
        fixed (byte* p = dst)
        {
            var blocks = (BlockQ8_K*)p;
            for (int i = 0; i < nb; i++)
            {
                var x = src.Slice(i * BlockSize, BlockSize);
                BlockQ8_K* b = blocks + i;
                float max = 0, amax = 0;
                for (int j = 0; j < BlockSize; j++)
                {
                    float ax = MathF.Abs(x[j]);
                    if (ax > amax) { amax = ax; max = x[j]; }
                }
                if (amax == 0)
                {
                    new Span<byte>(blocks + i, ByteSize).Clear();
                    continue;
                }
                float iscale = -127.0f / max;
                for (int j = 0; j < BlockSize; j++)
                    b->Qs[j] = (sbyte)Math.Min(127, QuantMath.NearestInt(iscale * x[j]));
                for (int g = 0; g < 16; g++)
                {
                    int sum = 0;
                    for (int k = 0; k < 16; k++)
                        sum += b->Qs[16 * g + k];
                    b->BSums[g] = (short)sum;
                }
                b->D = 1 / iscale;
            }
        }
    }
}
