using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// Quantization of one weight row guided by an importance vector (an importance matrix column: the mean square of the
/// activation each weight multiplies), producing the same bytes as ggml's <c>quantize_row_*_impl</c>, i.e. what
/// <c>ggml_quantize_chunk</c> writes when llama-quantize is given <c>--imatrix</c>. Without importance (an empty
/// span), and for types ggml quantizes the same way either way (Q8_0, F16, ...), this is <see cref="Quantize.Row"/>.
/// </summary>
/// <remarks>
/// Every search minimises sum_i w_i (x_i - q_i)^2 with w_i = importance_i * sqrt(sigma^2 + x_i^2) (sigma^2 from the
/// row or super-block), except Q6_K, which weights by the importance alone, as ggml does.
/// </remarks>
public static partial class ImportanceQuantize
{
    /// <summary>True when <paramref name="type"/> quantizes differently with an importance vector.</summary>
    public static bool UsesImportance(GgmlType type) => type is GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1
        or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>
    /// Encodes one row <paramref name="src"/> into <paramref name="dst"/> (exactly <see cref="GgmlTypeInfo.RowBytes"/>
    /// long), weighting the error of weight i by <paramref name="importance"/>[i]. An empty importance span means none.
    /// </summary>
    /// <exception cref="ArgumentException">The importance vector is not empty and not as long as the row, or the lengths do not fit the type.</exception>
    /// <exception cref="NotSupportedException">The type has no quantizer here.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        if (importance.IsEmpty || !UsesImportance(type))
        {
            Quantize.Row(type, src, dst);
            return;
        }
        if (importance.Length != src.Length)
            throw new ArgumentException($"The importance vector has {importance.Length} values for a row of {src.Length} weights.", nameof(importance));
        switch (type)
        {
            case GgmlType.Q4_0: Q4_0(src, dst, importance); break;
            case GgmlType.Q4_1: Q4_1(src, dst, importance); break;
            case GgmlType.Q5_0: Q5_0(src, dst, importance); break;
            case GgmlType.Q5_1: Q5_1(src, dst, importance); break;
            case GgmlType.Q2_K: Q2_K(src, dst, importance); break;
            case GgmlType.Q3_K: Q3_K(src, dst, importance); break;
            case GgmlType.Q4_K: Q4_K(src, dst, importance); break;
            case GgmlType.Q5_K: Q5_K(src, dst, importance); break;
            case GgmlType.Q6_K: Q6_K(src, dst, importance); break;
        }
    }

    /// <summary>Mean square of a span, accumulated in order in float (as ggml does).</summary>
    private static float SumOfSquares(ReadOnlySpan<float> x)
    {
        float sum = 0;
        for (int i = 0; i < x.Length; i++)
            sum += x[i] * x[i];
        return sum;
    }

    /// <summary>w_i = importance_i * sqrt(sigma2 + x_i^2).</summary>
    private static void Weights(ReadOnlySpan<float> x, ReadOnlySpan<float> importance, float sigma2, Span<float> weights)
    {
        for (int j = 0; j < x.Length; j++)
            weights[j] = importance[j] * MathF.Sqrt(sigma2 + x[j] * x[j]);
    }

    // ---- legacy 32-weight blocks: sigma^2 is the mean square of the whole row ----

    private static unsafe void Q4_0(ReadOnlySpan<float> x, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, x.Length, BlockQ4_0.ByteSize, BlockQ4_0.BlockSize, "Q4_0");
        float sigma2 = SumOfSquares(x) / x.Length;
        Span<float> weight = stackalloc float[32];
        Span<sbyte> levels = stackalloc sbyte[32];
        fixed (byte* p = dst)
        {
            for (int ib = 0; ib < nb; ib++)
            {
                var xb = x.Slice(32 * ib, 32);
                Weights(xb, importance.Slice(32 * ib, 32), sigma2, weight);
                float d = KQuantSearch.Symmetric(xb, 8, levels, weight);
                var b = (BlockQ4_0*)p + ib;
                b->D = HalfConvert.ToHalf(d);
                for (int j = 0; j < 16; j++)
                    b->Qs[j] = (byte)((byte)levels[j] | ((byte)levels[j + 16] << 4));
            }
        }
    }

    private static unsafe void Q4_1(ReadOnlySpan<float> x, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, x.Length, BlockQ4_1.ByteSize, BlockQ4_1.BlockSize, "Q4_1");
        float sigma2 = SumOfSquares(x) / x.Length;
        Span<float> weight = stackalloc float[32];
        Span<byte> levels = stackalloc byte[32], scratch = stackalloc byte[32];
        fixed (byte* p = dst)
        {
            for (int ib = 0; ib < nb; ib++)
            {
                var xb = x.Slice(32 * ib, 32);
                Weights(xb, importance.Slice(32 * ib, 32), sigma2, weight);
                float d = KQuantSearch.Affine(xb, weight, 15, levels, out float min, scratch, -0.9f, 0.05f, 36);
                var b = (BlockQ4_1*)p + ib;
                b->D = HalfConvert.ToHalf(d);
                b->M = HalfConvert.ToHalf(-min);
                for (int j = 0; j < 16; j++)
                    b->Qs[j] = (byte)((byte)levels[j] | ((byte)levels[j + 16] << 4));
            }
        }
    }

    private static unsafe void Q5_0(ReadOnlySpan<float> x, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, x.Length, BlockQ5_0.ByteSize, BlockQ5_0.BlockSize, "Q5_0");
        float sigma2 = SumOfSquares(x) / x.Length;
        Span<float> weight = stackalloc float[32];
        Span<sbyte> levels = stackalloc sbyte[32];
        fixed (byte* p = dst)
        {
            for (int ib = 0; ib < nb; ib++)
            {
                var xb = x.Slice(32 * ib, 32);
                Weights(xb, importance.Slice(32 * ib, 32), sigma2, weight);
                float d = KQuantSearch.Symmetric(xb, 16, levels, weight);
                var b = (BlockQ5_0*)p + ib;
                b->D = HalfConvert.ToHalf(d);
                PackFiveBits(levels, b->Qs, b->Qh);
            }
        }
    }

    private static unsafe void Q5_1(ReadOnlySpan<float> x, Span<byte> dst, ReadOnlySpan<float> importance)
    {
        int nb = QuantMath.CheckBlocks(dst.Length, x.Length, BlockQ5_1.ByteSize, BlockQ5_1.BlockSize, "Q5_1");
        float sigma2 = SumOfSquares(x) / x.Length;
        Span<float> weight = stackalloc float[32];
        Span<byte> levels = stackalloc byte[32], scratch = stackalloc byte[32];
        fixed (byte* p = dst)
        {
            for (int ib = 0; ib < nb; ib++)
            {
                var xb = x.Slice(32 * ib, 32);
                Weights(xb, importance.Slice(32 * ib, 32), sigma2, weight);
                float d = KQuantSearch.Affine(xb, weight, 31, levels, out float min, scratch, -0.9f, 0.05f, 36);
                var b = (BlockQ5_1*)p + ib;
                b->D = HalfConvert.ToHalf(d);
                b->M = HalfConvert.ToHalf(-min);
                PackFiveBits(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(levels), b->Qs, b->Qh);
            }
        }
    }

    /// <summary>
    /// 5-bit codes 0..31 of a 32-weight block: low nibbles of weights j and j + 16 share byte j of
    /// <paramref name="qs"/>; the fifth bit of weight j is bit j of the little-endian word <paramref name="qh"/>.
    /// </summary>
    private static unsafe void PackFiveBits(ReadOnlySpan<sbyte> levels, byte* qs, byte* qh)
    {
        uint high = 0;
        for (int j = 0; j < 16; j++)
        {
            int low = (byte)levels[j], up = (byte)levels[j + 16];
            qs[j] = (byte)((low & 0x0F) | ((up & 0x0F) << 4));
            high |= (uint)((low & 0x10) >> 4) << j;
            high |= (uint)((up & 0x10) >> 4) << (j + 16);
        }
        qh[0] = (byte)high;
        qh[1] = (byte)(high >> 8);
        qh[2] = (byte)(high >> 16);
        qh[3] = (byte)(high >> 24);
    }
}
