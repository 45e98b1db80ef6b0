using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Tests;

public class QuantizeTests
{
    // Limits on RMS(dequantize(quantize(x)) - x) for x ~ N(0, 1), each a little above the uniform-rounding estimate
    // step / sqrt(12): step = amax/127 (Q8), amax/8 (Q4_0), range/15 (Q4_1), amax/16 (Q5_0), range/31 (Q5_1), with
    // amax ~ 2.5 over 32 values (~3.5 over 256 for Q8_K); F16/BF16 keep 11/8 significant bits.
    [Theory]
    [InlineData(GgmlType.F32, 0.0)]
    [InlineData(GgmlType.F16, 0.0005)]
    [InlineData(GgmlType.BF16, 0.004)]
    [InlineData(GgmlType.Q8_0, 0.008)]
    [InlineData(GgmlType.Q8_1, 0.008)]
    [InlineData(GgmlType.Q8_K, 0.01)]
    [InlineData(GgmlType.Q4_0, 0.11)]
    [InlineData(GgmlType.Q4_1, 0.11)]
    [InlineData(GgmlType.Q5_0, 0.055)]
    [InlineData(GgmlType.Q5_1, 0.055)]
    public void RoundTripErrorIsWithinLimit(GgmlType type, double limit)
    {
        int n = 256 * 64;
        var x = TestData.Gaussian(n, 10);
        var q = new byte[GgmlTypeInfo.RowBytes(type, n)];
        Quantize.Row(type, x, q);
        var y = new float[n];
        Dequantize.Row(type, q, y);
        double sq = 0;
        for (int i = 0; i < n; i++)
            sq += (x[i] - (double)y[i]) * (x[i] - y[i]);
        double rmse = Math.Sqrt(sq / n);
        Assert.True(rmse <= limit, $"{type}: RMSE {rmse} over {limit}");
        if (type != GgmlType.F32)
            Assert.True(rmse > 0, "a lossy format reproduced Gaussian data exactly: it is not quantizing");
    }

    // ggml's test-quantize-fns, with its data (0.1 + 2 cos(i + offset)), its size (4096), its error measures
    // (sqrt(sum of squared errors) / n, and |quantized dot - float dot| / n) and its limits (0.002 and 0.02).
    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    public void PassesGgmlTestQuantizeFns(GgmlType type)
    {
        const int n = 32 * 128;
        var x = new float[n];
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = 0.1f + 2 * MathF.Cos(i);
            y[i] = 0.1f + 2 * MathF.Cos(i + 1.0f);
        }
        var q = new byte[GgmlTypeInfo.RowBytes(type, n)];
        Quantize.Row(type, x, q);
        var back = new float[n];
        Dequantize.Row(type, q, back);
        double sq = 0;
        for (int i = 0; i < n; i++)
            sq += (x[i] - (double)back[i]) * (x[i] - back[i]);
        Assert.True(Math.Sqrt(sq) / n < 0.002, $"{type} quantization error {Math.Sqrt(sq) / n}");

        var act = new byte[VecDot.ActivationRowBytes(type, n)];
        VecDot.QuantizeActivations(type, y, act);
        float result = VecDot.Dot(type, q, act, n);
        float expected = 0;
        for (int i = 0; i < n; i++)
            expected += x[i] * y[i];
        Assert.True(Math.Abs(result - expected) / n < 0.02, $"{type} dot product error {Math.Abs(result - expected) / n}");
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q8_1)]
    [InlineData(GgmlType.Q8_K)]
    public void QuantizeIsDeterministicAndOverwritesEveryByte(GgmlType type)
    {
        int n = 512;
        var x = TestData.Gaussian(n, 3);
        var a = new byte[GgmlTypeInfo.RowBytes(type, n)];
        var b = new byte[a.Length];
        Array.Fill(b, (byte)0xA5);
        Quantize.Row(type, x, a);
        Quantize.Row(type, x, b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Q4_0BytesMatchHandComputation()
    {
        // x_j = j - 16: the largest magnitude is x_0 = -16, so d = -16 / -8 = 2 and code = trunc(x / 2 + 8.5), capped at 15.
        var x = new float[32];
        for (int j = 0; j < 32; j++)
            x[j] = j - 16;
        var q = new byte[18];
        Quantize.Row(GgmlType.Q4_0, x, q);
        Assert.Equal(0x00, q[0]); // F16 2.0 = 0x4000, little-endian
        Assert.Equal(0x40, q[1]);
        for (int j = 0; j < 16; j++)
        {
            int lo = Math.Min(15, (int)((j - 16) / 2.0 + 8.5));
            int hi = Math.Min(15, (int)((j + 16 - 16) / 2.0 + 8.5));
            Assert.Equal((byte)(lo | hi << 4), q[2 + j]);
        }
        Assert.Equal(0x80, q[2]);  // x_0 = -16 -> 0, x_16 = 0 -> 8
        Assert.Equal(0xF8, q[17]); // x_15 = -1 -> 8, x_31 = 15 -> 16 capped to 15
    }

    [Fact]
    public void Q8_0ReferenceRoundsHalfAwayButActivationsRoundHalfEven()
    {
        // amax = 127 makes d = 1 exactly, so 2.5 and -0.5 are exact ties.
        var x = new float[32];
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -0.5f;
        x[3] = 3.5f;
        var reference = new byte[34];
        var activation = new byte[34];
        Quantize.Row(GgmlType.Q8_0, x, reference);
        VecDot.QuantizeActivations(GgmlType.Q8_0, x, activation);
        Assert.Equal(new byte[] { 127, 3, unchecked((byte)-1), 4 }, reference[2..6]);   // roundf: away from zero
        Assert.Equal(new byte[] { 127, 2, 0, 4 }, activation[2..6]);                      // round half to even
        Assert.Equal(reference[..2], activation[..2]);                                    // same scale
    }

    [Fact]
    public void Q8_KStoresFloatScaleAndGroupSums()
    {
        var x = TestData.Gaussian(512, 4);
        var q = new byte[2 * 292];
        Quantize.Row(GgmlType.Q8_K, x, q);
        for (int b = 0; b < 2; b++)
        {
            var block = q.AsSpan(b * 292, 292);
            float d = BitConverter.ToSingle(block[..4]);
            // The value of largest magnitude maps to -127 exactly.
            int argmax = 0;
            for (int j = 1; j < 256; j++)
            {
                if (Math.Abs(x[256 * b + j]) > Math.Abs(x[256 * b + argmax]))
                    argmax = j;
            }
            Assert.Equal(-127, (sbyte)block[4 + argmax]);
            Assert.Equal(x[256 * b + argmax], -127 * d, 5);
            for (int g = 0; g < 16; g++)
            {
                int sum = 0;
                for (int k = 0; k < 16; k++)
                    sum += (sbyte)block[4 + 16 * g + k];
                Assert.Equal(sum, BitConverter.ToInt16(block.Slice(260 + 2 * g, 2)));
            }
        }
    }

    [Fact]
    public void AllZeroBlocksQuantizeToZero()
    {
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q8_1, GgmlType.Q8_K })
        {
            var x = new float[256];
            var q = new byte[GgmlTypeInfo.RowBytes(type, 256)];
            Quantize.Row(type, x, q);
            var y = new float[256];
            Array.Fill(y, 1f);
            Dequantize.Row(type, q, y);
            Assert.All(y, v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void LengthMismatchesAndUnsupportedTypesThrow()
    {
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q8_0, new float[33], new byte[68]));
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q8_0, new float[64], new byte[34]));
        Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_K, new byte[143], new float[256]));
        Assert.Throws<NotSupportedException>(() => Quantize.Row(GgmlType.Q4_K, new float[256], new byte[144]));
        Assert.Throws<NotSupportedException>(() => Dequantize.Row(GgmlType.IQ2_XXS, new byte[66], new float[256]));
        Assert.False(Quantize.IsSupported(GgmlType.Q6_K));
        Assert.True(Dequantize.IsSupported(GgmlType.Q6_K));
    }
}
