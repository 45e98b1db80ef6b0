using System.Numerics.Tensors;

namespace EdgeLm.Numerics.Kernels;

/// <summary>Element-wise activation functions and softmax, vectorised through <see cref="TensorPrimitives"/>.</summary>
public static class Activations
{
    /// <summary>SiLU in place: x / (1 + e^-x).</summary>
    public static void Silu(Span<float> x) => Silu(x, x);

    /// <summary>
    /// y = silu(gate) * up, the SwiGLU feed-forward gate. <paramref name="y"/> may be the same memory as either input.
    /// </summary>
    public static void SwiGlu(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> y)
    {
        if (up.Length != gate.Length || y.Length != gate.Length)
            throw new ArgumentException($"gate ({gate.Length}), up ({up.Length}) and y ({y.Length}) must have one length.");
        Span<float> tmp = stackalloc float[Chunk];
        for (int off = 0; off < y.Length; off += Chunk)
        {
            int n = Math.Min(Chunk, y.Length - off);
            var t = tmp[..n];
            SiluChunk(gate.Slice(off, n), t);
            TensorPrimitives.Multiply(t, up.Slice(off, n), y.Slice(off, n));
        }
    }

    /// <summary>GELU in place, the tanh approximation ggml uses: 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))).</summary>
    public static void Gelu(Span<float> x)
    {
        const float sqrt2OverPi = 0.79788456080286535587989211986876f;
        const float coefA = 0.044715f;
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            x[i] = 0.5f * v * (1.0f + MathF.Tanh(sqrt2OverPi * v * (1.0f + coefA * v * v)));
        }
    }

    /// <summary>
    /// Softmax in place, as ggml does it: subtract the maximum, exponentiate, sum in double, multiply by 1 / sum.
    /// -inf entries (masked positions) become 0. An empty span is left alone.
    /// </summary>
    public static void Softmax(Span<float> x)
    {
        if (x.IsEmpty)
            return;
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, x);
        TensorPrimitives.Exp(x, x);
        double sum = 0;
        foreach (float v in x)
            sum += v;
        TensorPrimitives.Multiply(x, (float)(1.0 / sum), x);
    }

    private const int Chunk = 512;

    private static void Silu(ReadOnlySpan<float> x, Span<float> y)
    {
        Span<float> tmp = stackalloc float[Chunk];
        for (int off = 0; off < x.Length; off += Chunk)
        {
            int n = Math.Min(Chunk, x.Length - off);
            SiluChunk(x.Slice(off, n), tmp[..n]);
            tmp[..n].CopyTo(y.Slice(off, n));
        }
    }

    /// <summary>t = x / (1 + exp(-x)); t must not overlap x.</summary>
    private static void SiluChunk(ReadOnlySpan<float> x, Span<float> t)
    {
        TensorPrimitives.Negate(x, t);
        TensorPrimitives.Exp(t, t);
        TensorPrimitives.Add(t, 1.0f, t);
        TensorPrimitives.Divide(x, t, t);
    }
}
