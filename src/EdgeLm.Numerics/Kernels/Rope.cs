namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Rotary position embedding, applied in place to one head vector, the way ggml computes it (no YaRN: ext_factor 0,
/// attention factor 1). Pair i (0 &lt;= i &lt; rotaryDim / 2) turns by theta_i = pos * base^(-2i / rotaryDim),
/// divided by freqFactors[i] when given, times freqScale. Like ggml, theta_i is built by repeated float
/// multiplication (theta_0 = pos, theta_{i+1} = theta_i * base^(-2 / rotaryDim)), and values past rotaryDim are
/// left alone.
/// </summary>
public static class Rope
{
    /// <summary>
    /// Fills <paramref name="cos"/> and <paramref name="sin"/> (rotaryDim / 2 values each) with the rotation of
    /// every pair at <paramref name="position"/>, to share between all heads of a token.
    /// </summary>
    public static void Angles(int position, int rotaryDim, float freqBase, float freqScale, ReadOnlySpan<float> freqFactors,
        Span<float> cos, Span<float> sin)
    {
        if (rotaryDim <= 0 || rotaryDim % 2 != 0)
            throw new ArgumentException($"The rotary dimension must be positive and even, got {rotaryDim}.", nameof(rotaryDim));
        int pairs = rotaryDim / 2;
        if (cos.Length < pairs || sin.Length < pairs)
            throw new ArgumentException($"cos and sin need {pairs} values each.");
        if (!freqFactors.IsEmpty && freqFactors.Length < pairs)
            throw new ArgumentException($"freqFactors has {freqFactors.Length} values, {pairs} pairs need one each.", nameof(freqFactors));
        float thetaScale = MathF.Pow(freqBase, -2.0f / rotaryDim);
        float theta = position;
        for (int i = 0; i < pairs; i++)
        {
            float factor = freqFactors.IsEmpty ? 1.0f : freqFactors[i];
            float angle = freqScale * (theta / factor);
            cos[i] = MathF.Cos(angle);
            sin[i] = MathF.Sin(angle);
            theta *= thetaScale;
        }
    }

    /// <summary>Llama ("normal") rope: rotates adjacent pairs (2i, 2i + 1).</summary>
    public static void ApplyNormal(Span<float> head, int position, int rotaryDim, float freqBase, float freqScale, ReadOnlySpan<float> freqFactors)
    {
        CheckHead(head, rotaryDim);
        Span<float> cos = stackalloc float[rotaryDim / 2];
        Span<float> sin = stackalloc float[rotaryDim / 2];
        Angles(position, rotaryDim, freqBase, freqScale, freqFactors, cos, sin);
        ApplyNormal(head, cos, sin);
    }

    /// <summary>NeoX rope (Qwen2, ...): rotates pairs (i, i + rotaryDim / 2).</summary>
    public static void ApplyNeox(Span<float> head, int position, int rotaryDim, float freqBase, float freqScale, ReadOnlySpan<float> freqFactors)
    {
        CheckHead(head, rotaryDim);
        Span<float> cos = stackalloc float[rotaryDim / 2];
        Span<float> sin = stackalloc float[rotaryDim / 2];
        Angles(position, rotaryDim, freqBase, freqScale, freqFactors, cos, sin);
        ApplyNeox(head, cos, sin);
    }

    /// <summary>Normal rope with angles from <see cref="Angles"/>; the rotary dimension is 2 * cos.Length.</summary>
    public static void ApplyNormal(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int pairs = cos.Length;
        CheckHead(head, 2 * pairs);
        for (int i = 0; i < pairs; i++)
        {
            float x0 = head[2 * i], x1 = head[2 * i + 1];
            head[2 * i] = x0 * cos[i] - x1 * sin[i];
            head[2 * i + 1] = x0 * sin[i] + x1 * cos[i];
        }
    }

    /// <summary>NeoX rope with angles from <see cref="Angles"/>; the rotary dimension is 2 * cos.Length.</summary>
    public static void ApplyNeox(Span<float> head, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin)
    {
        int pairs = cos.Length;
        CheckHead(head, 2 * pairs);
        for (int i = 0; i < pairs; i++)
        {
            float x0 = head[i], x1 = head[i + pairs];
            head[i] = x0 * cos[i] - x1 * sin[i];
            head[i + pairs] = x0 * sin[i] + x1 * cos[i];
        }
    }

    private static void CheckHead(Span<float> head, int rotaryDim)
    {
        if (rotaryDim <= 0 || rotaryDim % 2 != 0 || rotaryDim > head.Length)
            throw new ArgumentException($"The rotary dimension must be even and within the {head.Length}-value head, got {rotaryDim}.", nameof(rotaryDim));
    }
}
