using System.Numerics.Tensors;

namespace EdgeLm.Numerics.Kernels;

/// <summary>Normalisations of one activation vector.</summary>
public static class Norms
{
    /// <summary>
    /// RMS norm as ggml computes it: the squares (float) are summed in double, mean = (float)(sum / n),
    /// scale = 1 / sqrtf(mean + eps), y = (x * scale) * weight. <paramref name="y"/> may alias <paramref name="x"/>.
    /// </summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> y)
    {
        if (weight.Length != x.Length)
            throw new ArgumentException($"The norm weight has {weight.Length} values, the input {x.Length}.", nameof(weight));
        RmsNorm(x, epsilon, y);
        TensorPrimitives.Multiply(y, weight, y);
    }

    /// <summary>RMS norm without a learned weight: y = x / sqrt(mean(x^2) + eps).</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, float epsilon, Span<float> y)
    {
        if (y.Length != x.Length)
            throw new ArgumentException($"The output has {y.Length} values, the input {x.Length}.", nameof(y));
        if (x.IsEmpty)
            return;
        double sum = 0;
        foreach (float v in x)
            sum += v * v;
        float mean = (float)(sum / x.Length);
        float scale = 1.0f / MathF.Sqrt(mean + epsilon);
        TensorPrimitives.Multiply(x, scale, y);
    }
}
