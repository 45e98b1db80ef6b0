using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Tests;

/// <summary>
/// Our quant code against llama.cpp's compiled ggml, the library the conformance oracle runs: reference quantizers
/// and dequantizers byte for byte, the AVX2 activation quantizers byte for byte, and dot products up to float
/// summation order. Returns without asserting where the oracle cannot load (not Linux x64 with AVX2).
/// </summary>
public class GgmlOracleTests
{
    /// <summary>Where the oracle can run (CI's Linux x64 AVX2 machine) it must load, so the tests below cannot skip silently.</summary>
    [Fact]
    public void OracleLoadsWhereSupported()
    {
        bool supported = OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64
            && System.Runtime.Intrinsics.X86.Avx2.IsSupported && System.Runtime.Intrinsics.X86.Fma.IsSupported;
        Assert.Equal(supported, GgmlOracle.Instance is not null);
    }

    private static string Name(GgmlType type) => type.ToString().ToLowerInvariant().Replace("_k", "_K");

    /// <summary>Gaussian, tiny, coarse (many exact ties, one all-zero block), sparse and large, and offset data.</summary>
    private static IEnumerable<float[]> Inputs(int n, int seed)
    {
        var g = TestData.Gaussian(n, seed);
        yield return g;
        yield return g.Select(v => v * 0.02f).ToArray();
        var coarse = g.Select(v => MathF.Round(v * 8) / 4).ToArray();
        Array.Clear(coarse, 0, 256);
        yield return coarse;
        yield return g.Select((v, i) => i % 3 == 0 ? 0f : v * 100).ToArray();
        yield return g.Select(v => v + 3).ToArray();
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q8_1)]
    [InlineData(GgmlType.Q8_K)]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    public void ReferenceQuantizerBytesEqualGgml(GgmlType type)
    {
        if (GgmlOracle.Instance is not { } ggml)
            return;
        var theirsQuantize = ggml.ReferenceQuantizer(Name(type));
        const int n = 256 * 24;
        foreach (var x in Inputs(n, 11))
        {
            var ours = new byte[GgmlTypeInfo.RowBytes(type, n)];
            var theirs = new byte[ours.Length];
            Quantize.Row(type, x, ours);
            theirsQuantize(x, theirs, n);
            Assert.Equal(theirs, ours);
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q8_K)]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    public void DequantizedFloatsEqualGgml(GgmlType type)
    {
        if (GgmlOracle.Instance is not { } ggml)
            return;
        var theirsDequantize = ggml.Dequantizer(Name(type));
        const int n = 256 * 24;
        var rows = Inputs(n, 12).Select(x =>
        {
            var q = new byte[GgmlTypeInfo.RowBytes(type, n)];
            Quantize.Row(type, x, q);
            return q;
        }).ToList();
        if (GgmlTypeInfo.BlockSize(type) == 256 && type != GgmlType.Q8_K)
            rows.Add(TestData.WeightRow(type, n, seed: 13)); // random codes and scales
        foreach (var q in rows)
        {
            var ours = new float[n];
            var theirs = new float[n];
            Dequantize.Row(type, q, ours);
            theirsDequantize(q, theirs, n);
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToUInt32Bits(theirs[i]) == BitConverter.SingleToUInt32Bits(ours[i]), $"{type} weight {i}: ggml {theirs[i]}, ours {ours[i]}");
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_0, "q8_0")]
    [InlineData(GgmlType.Q4_1, "q8_1")]
    [InlineData(GgmlType.Q4_K, "q8_K")]
    public void ActivationBytesEqualLlamaCppCpuBackend(GgmlType weightType, string activationName)
    {
        if (GgmlOracle.Instance is not { } ggml)
            return;
        var theirsQuantize = ggml.CpuQuantizer(activationName);
        const int n = 256 * 24;
        foreach (var x in Inputs(n, 14))
        {
            var ours = new byte[VecDot.ActivationRowBytes(weightType, n)];
            var theirs = new byte[ours.Length];
            VecDot.QuantizeActivations(weightType, x, ours);
            theirsQuantize(x, theirs, n);
            Assert.Equal(theirs, ours);
        }
    }

    /// <summary>Same bytes in, so only the float summation order differs: 1e-6 of sum |w_i a_i|.</summary>
    [Theory]
    [InlineData(GgmlType.F32, "f32")]
    [InlineData(GgmlType.F16, "f16")]
    [InlineData(GgmlType.BF16, "bf16")]
    [InlineData(GgmlType.Q8_0, "q8_0_q8_0")]
    [InlineData(GgmlType.Q4_0, "q4_0_q8_0")]
    [InlineData(GgmlType.Q4_1, "q4_1_q8_1")]
    [InlineData(GgmlType.Q5_0, "q5_0_q8_0")]
    [InlineData(GgmlType.Q5_1, "q5_1_q8_1")]
    [InlineData(GgmlType.Q2_K, "q2_K_q8_K")]
    [InlineData(GgmlType.Q3_K, "q3_K_q8_K")]
    [InlineData(GgmlType.Q4_K, "q4_K_q8_K")]
    [InlineData(GgmlType.Q5_K, "q5_K_q8_K")]
    [InlineData(GgmlType.Q6_K, "q6_K_q8_K")]
    public void DotProductsMatchGgmlVecDot(GgmlType type, string name)
    {
        if (GgmlOracle.Instance is not { } ggml)
            return;
        var theirsDot = ggml.Dot(name);
        foreach (int blocks in new[] { 1, 3, 8, 17 })
            foreach (bool quantized in new[] { true, false })
            {
                int n = blocks * 256;
                var w = TestData.WeightRow(type, n, seed: 20 + blocks, quantized);
                var a = new byte[VecDot.ActivationRowBytes(type, n)];
                VecDot.QuantizeActivations(type, TestData.Gaussian(n, 30 + blocks), a);
                theirsDot(n, out float theirs, 0, w, 0, a, 0, 1);
                float ours = VecDot.Dot(type, w, a, n);
                var wf = TestData.Dequantized(type, w, n);
                var af = TestData.Dequantized(VecDot.ActivationType(type), a, n);
                double scale = 0;
                for (int i = 0; i < n; i++)
                    scale += Math.Abs((double)wf[i] * af[i]);
                Assert.True(Math.Abs(ours - theirs) <= 1e-6 * scale, $"{type} n={n}: ggml {theirs}, ours {ours}");
            }
    }
}
