using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Tests;

public class OpsTests
{
    private static void Close(double expected, double actual, double relative, string what) =>
        Assert.True(Math.Abs(expected - actual) <= relative * Math.Max(1.0, Math.Abs(expected)), $"{what}: expected {expected}, got {actual}");

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1000)]
    public void RmsNormMatchesDoubleFormula(int n)
    {
        var x = TestData.Gaussian(n, n, 3f);
        var w = TestData.Gaussian(n, n + 1);
        var y = new float[n];
        const float eps = 1e-5f;
        Norms.RmsNorm(x, w, eps, y);
        double ms = 0;
        foreach (var v in x)
            ms += (double)v * v;
        double inv = 1 / Math.Sqrt(ms / n + eps);
        for (int i = 0; i < n; i++)
            Close(x[i] * inv * w[i], y[i], 2e-6, $"y[{i}]");

        Norms.RmsNorm(x, w, eps, x); // in place gives the same
        Assert.Equal(y, x);
    }

    [Fact]
    public void RopeRotatesTheDocumentedPairs()
    {
        // Head [1, 2, 3, 4], position 1, base 10000: pair 0 turns by 1 rad, pair 1 by 10000^(-2/4) = 0.01 rad.
        double c0 = Math.Cos(1), s0 = Math.Sin(1), c1 = Math.Cos(0.01), s1 = Math.Sin(0.01);
        float[] normal = [1, 2, 3, 4];
        Rope.ApplyNormal(normal, 1, 4, 10000f, 1f, default);
        double[] expectNormal = [1 * c0 - 2 * s0, 1 * s0 + 2 * c0, 3 * c1 - 4 * s1, 3 * s1 + 4 * c1];
        float[] neox = [1, 2, 3, 4];
        Rope.ApplyNeox(neox, 1, 4, 10000f, 1f, default);
        double[] expectNeox = [1 * c0 - 3 * s0, 2 * c1 - 4 * s1, 1 * s0 + 3 * c0, 2 * s1 + 4 * c1];
        for (int i = 0; i < 4; i++)
        {
            Close(expectNormal[i], normal[i], 1e-6, $"normal[{i}]");
            Close(expectNeox[i], neox[i], 1e-6, $"neox[{i}]");
        }
    }

    [Fact]
    public void RopeMatchesThetaFormulaWithScaleFactorsAndPartialRotation()
    {
        const int headDim = 64, rotaryDim = 48, position = 37;
        const float freqBase = 500000f, freqScale = 0.25f;
        var factors = new float[rotaryDim / 2];
        for (int i = 0; i < factors.Length; i++)
            factors[i] = 1 + i % 5;
        var original = TestData.Gaussian(headDim, 9);
        var normal = (float[])original.Clone();
        var neox = (float[])original.Clone();
        Rope.ApplyNormal(normal, position, rotaryDim, freqBase, freqScale, factors);
        Rope.ApplyNeox(neox, position, rotaryDim, freqBase, freqScale, factors);
        for (int i = 0; i < rotaryDim / 2; i++)
        {
            double theta = position * Math.Pow(freqBase, -2.0 * i / rotaryDim) / factors[i] * freqScale;
            double c = Math.Cos(theta), s = Math.Sin(theta);
            double a = original[2 * i], b = original[2 * i + 1];
            Close(a * c - b * s, normal[2 * i], 2e-5, $"normal pair {i}");
            Close(a * s + b * c, normal[2 * i + 1], 2e-5, $"normal pair {i}");
            a = original[i];
            b = original[i + rotaryDim / 2];
            Close(a * c - b * s, neox[i], 2e-5, $"neox pair {i}");
            Close(a * s + b * c, neox[i + rotaryDim / 2], 2e-5, $"neox pair {i}");
        }
        for (int i = rotaryDim; i < headDim; i++)
        {
            Assert.Equal(original[i], normal[i]);
            Assert.Equal(original[i], neox[i]);
        }
    }

    [Fact]
    public void RopeAtPositionZeroIsIdentityAndBadDimensionsThrow()
    {
        var x = TestData.Gaussian(16, 3);
        var y = (float[])x.Clone();
        Rope.ApplyNormal(y, 0, 16, 10000f, 1f, default);
        Assert.Equal(x, y);
        Assert.Throws<ArgumentException>(() => Rope.ApplyNormal(y, 1, 17, 10000f, 1f, default));
        Assert.Throws<ArgumentException>(() => Rope.ApplyNeox(y, 1, 32, 10000f, 1f, default));
        Assert.Throws<ArgumentException>(() => Rope.ApplyNeox(y, 1, 16, 10000f, 1f, new float[3]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(300)]
    public void SoftmaxMatchesDoubleFormula(int n)
    {
        var x = TestData.Gaussian(n, n, 4f);
        x[0] = float.NegativeInfinity; // a masked position
        if (n == 1)
            x[0] = 2f;
        var y = (float[])x.Clone();
        Activations.Softmax(y);
        double max = x.Max();
        double sum = x.Sum(v => Math.Exp(v - max));
        for (int i = 0; i < n; i++)
            Close(Math.Exp(x[i] - max) / sum, y[i], 1e-6, $"p[{i}]");
        Assert.Equal(1.0, y.Sum(v => (double)v), 5);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(513)]
    [InlineData(1500)]
    public void SwiGluSiluAndGeluMatchDoubleFormulas(int n)
    {
        var gate = TestData.Gaussian(n, 1, 3f);
        var up = TestData.Gaussian(n, 2, 2f);
        var y = new float[n];
        Activations.SwiGlu(gate, up, y);
        var silu = (float[])gate.Clone();
        Activations.Silu(silu);
        var gelu = (float[])gate.Clone();
        Activations.Gelu(gelu);
        var inPlace = (float[])gate.Clone();
        Activations.SwiGlu(inPlace, up, inPlace);
        for (int i = 0; i < n; i++)
        {
            double g = gate[i];
            double s = g / (1 + Math.Exp(-g));
            Close(s, silu[i], 1e-6, $"silu[{i}]");
            Close(s * up[i], y[i], 1e-6, $"swiglu[{i}]");
            Close(0.5 * g * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * g * (1 + 0.044715 * g * g))), gelu[i], 1e-6, $"gelu[{i}]");
        }
        Assert.Equal(y, inPlace);
    }
}
