using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Tests;

public class DotTests
{
    public static TheoryData<GgmlType> Types()
    {
        var data = new TheoryData<GgmlType>();
        foreach (var t in TestData.WeightTypes)
            data.Add(t);
        return data;
    }

    private static int[] Counts(GgmlType type) =>
        GgmlTypeInfo.BlockSize(type) == 256 ? TestData.SuperBlockCounts : TestData.SmallBlockCounts;

    private static int BlockSizeForTest(GgmlType type) => GgmlTypeInfo.BlockSize(type) == 1 ? 32 : GgmlTypeInfo.BlockSize(type);

    private static byte[] Activations(GgmlType type, float[] x)
    {
        var a = new byte[VecDot.ActivationRowBytes(type, x.Length)];
        VecDot.QuantizeActivations(type, x, a);
        return a;
    }

    /// <summary>
    /// The fast kernel against the scalar reference. Integer parts are exact in both; only the float sums differ: the
    /// reference adds one term per block in order, the x86 tile kernels keep eight lanes per output and add them at
    /// the end, the float formats sum in float vectors instead of double. Each float sum of at most nb + 8 terms is
    /// off by at most (nb + 8) units of 2^-24 of the sum of the terms' magnitudes, which is at most
    /// M = sum_i (|w_i| + 2 |o_i|) |a_i| (dequantized weights and activations; o_i the offset part of the weight for
    /// the formats whose code and offset parts are summed apart, see <see cref="OffsetParts"/>). The limit is twice
    /// that bound. The portable kernels reproduce
    /// the reference's float steps and must equal it bit for bit.
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    [Trait("Category", "Simd")]
    public void FastDotEqualsReference(GgmlType type)
    {
        bool exact = GgmlTypeInfo.BlockSize(type) != 1 && Kernels.TileKernels.For(type) is null;
        foreach (int count in Counts(type))
        {
            int n = count * BlockSizeForTest(type);
            var w = TestData.WeightRow(type, n, seed: 100 + count);
            var x = TestData.Gaussian(n, seed: 200 + count);
            var a = Activations(type, x);
            float fast = VecDot.Dot(type, w, a, n);
            float reference = VecDot.DotReference(type, w, a, n);
            if (exact)
            {
                Assert.True(fast == reference, $"{type} n={n}: fast {fast} != reference {reference} ({VecDot.Backend})");
                continue;
            }
            double limit = 2 * (n / BlockSizeForTest(type) + 8) * Math.Pow(2, -24) * TermMagnitude(type, w, a, n);
            Assert.True(Math.Abs(fast - reference) <= limit,
                $"{type} n={n}: fast {fast} reference {reference}, difference over {limit} ({VecDot.Backend})");
        }
    }

    /// <summary>M = sum_i (|w_i| + 2 |o_i|) |a_i| over dequantized weights and activations (see above).</summary>
    internal static double TermMagnitude(GgmlType type, byte[] w, byte[] a, int n)
    {
        var wf = TestData.Dequantized(type, w, n);
        var af = TestData.Dequantized(VecDot.ActivationType(type), a, n);
        var offsets = OffsetParts(type, w, n);
        double m = 0;
        for (int i = 0; i < n; i++)
            m += (Math.Abs(wf[i]) + 2 * Math.Abs(offsets[i])) * Math.Abs(af[i]);
        return m;
    }

    /// <summary>
    /// The part of each weight the kernels sum apart from the codes (the block offset of Q4_1/Q5_1, the sub-block
    /// min of Q2_K/Q4_K/Q5_K; zero for the symmetric formats, whose biases come off in integers): the row
    /// dequantized with every code byte cleared.
    /// </summary>
    private static float[] OffsetParts(GgmlType type, byte[] w, int n)
    {
        (int from, int to) codes = type switch
        {
            GgmlType.Q4_1 => (4, 20),
            GgmlType.Q5_1 => (4, 24),
            GgmlType.Q2_K => (16, 80),
            GgmlType.Q4_K => (16, 144),
            GgmlType.Q5_K => (16, 176),
            _ => (0, 0),
        };
        if (codes.to == 0)
            return new float[n];
        var cleared = (byte[])w.Clone();
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        for (int b = 0; b < cleared.Length / blockBytes; b++)
            cleared.AsSpan(b * blockBytes + codes.from, codes.to - codes.from).Clear();
        return TestData.Dequantized(type, cleared, n);
    }

    /// <summary>
    /// The dot kernel, the weight dequantizer and the activation dequantizer must agree on every bit of the layout:
    /// Dot equals sum(dequant(w)_i * dequant(a)_i) up to float rounding (1e-5 of sum |w_i a_i|, plus the F16 rounding
    /// of Q8_1's stored sum for the offset formats). For the k-quants,
    /// whose weights are random bytes, this is the check that kernel and dequantizer read the same codes and scales.
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void DotEqualsDotOfDequantizedRows(GgmlType type)
    {
        var actType = VecDot.ActivationType(type);
        foreach (int count in Counts(type))
        {
            int n = count * BlockSizeForTest(type);
            var w = TestData.WeightRow(type, n, seed: 300 + count);
            var a = Activations(type, TestData.Gaussian(n, seed: 400 + count));
            var wf = TestData.Dequantized(type, w, n);
            var af = TestData.Dequantized(actType, a, n);
            double exact = 0, scale = 0;
            for (int i = 0; i < n; i++)
            {
                exact += (double)wf[i] * af[i];
                scale += Math.Abs((double)wf[i] * af[i]);
            }
            double tolerance = 1e-5 * scale + 1e-30;
            if (actType == GgmlType.Q8_1)
            {
                // Q8_1 stores S = F16(d * sum(q)), rounded to 11 bits, and the offset term uses m * S: allow
                // |m * S| * 2^-11 per block on top of the float rounding.
                int wb = GgmlTypeInfo.BlockBytes(type);
                for (int b = 0; b < count; b++)
                {
                    float m = HalfConvert.ToSingle(BitConverter.ToUInt16(w, b * wb + 2));
                    float sum = HalfConvert.ToSingle(BitConverter.ToUInt16(a, b * 36 + 2));
                    tolerance += Math.Abs((double)m * sum) * Math.Pow(2, -11);
                }
            }
            float dot = VecDot.Dot(type, w, a, n);
            float reference = VecDot.DotReference(type, w, a, n);
            Assert.True(Math.Abs(dot - exact) <= tolerance, $"{type} n={n}: dot {dot}, dequantized {exact}");
            Assert.True(Math.Abs(reference - exact) <= tolerance, $"{type} n={n}: reference {reference}, dequantized {exact}");
        }
    }

    /// <summary>
    /// Against the float activations, the only error left is converting the activations, bounded by Cauchy-Schwarz:
    /// |sum w_i e_i| &lt;= |w| |e|. Per element |e_i| &lt;= block amax / 254 for the Q8 formats, so
    /// |e| &lt;= sqrt(block size) / 254 * |x| (0.0223 for 32-blocks, 0.063 for Q8_K's 256); F16 and BF16 round to
    /// relative 2^-11 and 2^-9. Limits are these bounds plus the F16 rounding of the Q8_0/Q8_1 block scale (2^-11 sqrt(32)).
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    public void DotIsCloseToFloatDotOfDequantizedWeights(GgmlType type)
    {
        double limit = VecDot.ActivationType(type) switch
        {
            GgmlType.F32 => 1e-6,
            GgmlType.F16 => 5.2e-4,
            GgmlType.BF16 => 2.1e-3,
            GgmlType.Q8_K => 0.064,
            _ => 0.026,
        };
        double worst = 0;
        foreach (int count in Counts(type))
            foreach (bool quantized in new[] { false, true })
            {
                int n = count * BlockSizeForTest(type);
                var w = TestData.WeightRow(type, n, seed: 500 + count, quantized);
                var x = TestData.Gaussian(n, seed: 600 + count);
                var wf = TestData.Dequantized(type, w, n);
                double exact = 0, ww = 0, xx = 0;
                for (int i = 0; i < n; i++)
                {
                    exact += (double)wf[i] * x[i];
                    ww += (double)wf[i] * wf[i];
                    xx += (double)x[i] * x[i];
                }
                float dot = VecDot.Dot(type, w, Activations(type, x), n);
                double err = Math.Abs(dot - exact) / Math.Sqrt(ww * xx);
                worst = Math.Max(worst, err);
                Assert.True(err <= limit, $"{type} n={n}: normalised error {err} over {limit}");
            }
        Assert.True(worst > 0 || type == GgmlType.F32, $"{type}: no activation rounding error at all, suspicious");
    }

    [Fact]
    public void ActivationTypesFollowGgmlVecDotType()
    {
        Assert.Equal(GgmlType.F32, VecDot.ActivationType(GgmlType.F32));
        Assert.Equal(GgmlType.F16, VecDot.ActivationType(GgmlType.F16));
        Assert.Equal(GgmlType.BF16, VecDot.ActivationType(GgmlType.BF16));
        foreach (var t in new[] { GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q8_0 })
            Assert.Equal(GgmlType.Q8_0, VecDot.ActivationType(t));
        foreach (var t in new[] { GgmlType.Q4_1, GgmlType.Q5_1 })
            Assert.Equal(GgmlType.Q8_1, VecDot.ActivationType(t));
        foreach (var t in new[] { GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K })
            Assert.Equal(GgmlType.Q8_K, VecDot.ActivationType(t));
        Assert.Throws<NotSupportedException>(() => VecDot.ActivationType(GgmlType.IQ4_XS));
        Assert.Equal(8 * 34, VecDot.ActivationRowBytes(GgmlType.Q4_0, 256));
        Assert.Equal(292, VecDot.ActivationRowBytes(GgmlType.Q6_K, 256));
        Assert.Equal(512, VecDot.ActivationRowBytes(GgmlType.F16, 256));
    }

    [Fact]
    public void WrongRowLengthsThrow()
    {
        var w = new byte[18 * 2];
        var a = new byte[34 * 2];
        Assert.Throws<ArgumentException>(() => VecDot.Dot(GgmlType.Q4_0, w, a, 96));
        Assert.Throws<ArgumentException>(() => VecDot.Dot(GgmlType.Q4_0, w.AsSpan(1), a, 64));
        Assert.Throws<ArgumentException>(() => VecDot.Dot(GgmlType.Q4_0, w, a.AsSpan(1), 64));
        Assert.Throws<ArgumentException>(() => VecDot.ActivationRowBytes(GgmlType.Q4_K, 255));
    }
}
