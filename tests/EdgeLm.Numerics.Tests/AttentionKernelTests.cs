using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Tests;

/// <summary>
/// The kernels attention runs over a KV cache: products of queries with a strided view of one head's keys (as
/// the cache hands them out), and <see cref="AttentionKernels.SoftmaxWeightedSum"/> over Q8_0 value rows.
/// </summary>
public class AttentionKernelTests
{
    /// <summary>Position counts that reach every row-remainder path of the kernels (8-row groups, pairs, single rows).</summary>
    public static readonly int[] Positions = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129];

    /// <summary>
    /// A cache-like buffer: <paramref name="positions"/> rows of <paramref name="heads"/> heads, each head
    /// <paramref name="headDimension"/> values of <paramref name="type"/>; returns the pinned bytes and one row's size.
    /// </summary>
    private static (byte[] Bytes, long RowBytes) Cache(GgmlType type, int positions, int heads, int headDimension, int seed)
    {
        int width = heads * headDimension;
        long rowBytes = GgmlTypeInfo.RowBytes(type, width);
        var bytes = GC.AllocateUninitializedArray<byte>((int)(rowBytes * positions), pinned: true);
        for (int j = 0; j < positions; j++)
            VecDot.QuantizeActivations(type, TestData.Gaussian(width, seed + j, std: 2), bytes.AsSpan((int)(j * rowBytes), (int)rowBytes));
        return (bytes, rowBytes);
    }

    private static WeightMatrix HeadView(byte[] bytes, long rowBytes, GgmlType type, int head, int headDimension, int positions) =>
        WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(bytes, (int)(head * GgmlTypeInfo.RowBytes(type, headDimension))),
            type, positions, headDimension, rowBytes);

    /// <summary>
    /// Scores of 1-4 query heads against one head of a strided key cache: every output equals the dot product of that
    /// position's head, copied out contiguously, with the quantized query (F16 and Q8_0 keys, 64- and 128-wide heads).
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0, 64)]
    [InlineData(GgmlType.Q8_0, 128)]
    [InlineData(GgmlType.F16, 64)]
    [Trait("Category", "Simd")]
    public void StridedKeyViewsGiveTheDotProductsOfTheirRows(GgmlType type, int headDimension)
    {
        const int heads = 3, head = 1;
        using var matmul = new MatMul(1);
        foreach (int n in Positions)
        {
            var (bytes, rowBytes) = Cache(type, n, heads, headDimension, seed: n);
            var keys = HeadView(bytes, rowBytes, type, head, headDimension, n);
            for (int group = 1; group <= 4; group++)
            {
                var queries = TestData.Gaussian(group * headDimension, seed: 100 + group);
                var scores = new float[group * n];
                matmul.Multiply(keys, queries, scores, group);
                var act = new byte[VecDot.ActivationRowBytes(type, headDimension)];
                for (int i = 0; i < group; i++)
                {
                    VecDot.QuantizeActivations(type, queries.AsSpan(i * headDimension, headDimension), act);
                    for (int j = 0; j < n; j++)
                    {
                        var row = keys.Row(j).ToArray(); // a contiguous copy of position j's head
                        Assert.Equal(VecDot.Dot(type, row, act, headDimension), scores[i * n + j]);
                    }
                }
            }
            GC.KeepAlive(bytes);
        }
    }

    private static float[] Scores(int n, int seed, bool masked)
    {
        var scores = TestData.Gaussian(n, seed, std: 3);
        if (masked)
        {
            for (int j = 1; j < n; j += 3)
                scores[j] = float.NegativeInfinity; // llama.cpp's mask: these positions do not count
        }
        return scores;
    }

    /// <summary>
    /// The vector paths give the reference's bits (one fused multiply-add per element and position in the same order)
    /// for every position count, 32- to 256-wide heads, with and without masked positions; and both stay within
    /// 2e-6 (relative to the largest value) of the softmax-weighted sum worked out in double.
    /// </summary>
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(96)]
    [InlineData(128)]
    [InlineData(256)]
    [Trait("Category", "Simd")]
    public void SoftmaxWeightedSumMatchesTheReferenceAndDoublePrecision(int headDimension)
    {
        foreach (int n in Positions)
        {
            foreach (bool masked in new[] { false, true })
            {
                var (bytes, rowBytes) = Cache(GgmlType.Q8_0, n, 2, headDimension, seed: 7 * n);
                var values = HeadView(bytes, rowBytes, GgmlType.Q8_0, 1, headDimension, n);
                var scores = Scores(n, seed: n, masked);
                var fast = new float[headDimension];
                var reference = new float[headDimension];
                fast.AsSpan().Fill(float.NaN); // the kernels must overwrite, not accumulate into, the output
                AttentionKernels.SoftmaxWeightedSum(scores, values, fast);
                AttentionKernels.SoftmaxWeightedSumReference(scores, values, reference);
                Assert.Equal(reference, fast);

                double max = scores.Where(float.IsFinite).Max();
                var weights = scores.Select(x => float.IsFinite(x) ? Math.Exp(x - max) : 0).ToArray();
                double total = weights.Sum();
                var expected = new double[headDimension];
                var row = new float[headDimension];
                for (int j = 0; j < n; j++)
                {
                    Dequantize.Row(GgmlType.Q8_0, values.Row(j), row);
                    for (int d = 0; d < headDimension; d++)
                        expected[d] += weights[j] / total * row[d];
                }
                double scale = expected.Max(Math.Abs);
                for (int d = 0; d < headDimension; d++)
                    Assert.True(Math.Abs(expected[d] - fast[d]) <= 2e-6 * scale, $"n {n}, d {d}: {fast[d]} vs {expected[d]}");
                GC.KeepAlive(bytes);
            }
        }
    }

    [Fact]
    public void OnlyMaskedPositionsGiveZeros()
    {
        var (bytes, rowBytes) = Cache(GgmlType.Q8_0, 3, 1, 32, seed: 1);
        var values = HeadView(bytes, rowBytes, GgmlType.Q8_0, 0, 32, 3);
        var output = new float[32];
        output.AsSpan().Fill(1);
        AttentionKernels.SoftmaxWeightedSum([float.NegativeInfinity, float.NegativeInfinity], values, output);
        Assert.All(output, v => Assert.Equal(0f, v));
        GC.KeepAlive(bytes);
    }

    [Fact]
    public void SoftmaxWeightedSumChecksItsArguments()
    {
        var (bytes, rowBytes) = Cache(GgmlType.Q8_0, 4, 1, 64, seed: 1);
        var values = HeadView(bytes, rowBytes, GgmlType.Q8_0, 0, 64, 4);
        Assert.Throws<ArgumentException>(() => AttentionKernels.SoftmaxWeightedSum(new float[5], values, new float[64])); // more scores than rows
        Assert.Throws<ArgumentException>(() => AttentionKernels.SoftmaxWeightedSum([], values, new float[64]));
        Assert.Throws<ArgumentException>(() => AttentionKernels.SoftmaxWeightedSum(new float[4], values, new float[32]));
        var (halves, halfRow) = Cache(GgmlType.F16, 4, 1, 64, seed: 1);
        Assert.Throws<NotSupportedException>(() =>
            AttentionKernels.SoftmaxWeightedSum(new float[4], HeadView(halves, halfRow, GgmlType.F16, 0, 64, 4), new float[64]));
        GC.KeepAlive(bytes);
        GC.KeepAlive(halves);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(64)]
    [InlineData(128)]
    public void HadamardMatrixIsSymmetricOrthonormalAndSelfInverse(int n)
    {
        var h = Hadamard.Matrix(n);
        float entry = 1 / MathF.Sqrt(n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                Assert.Equal(h[i * n + j], h[j * n + i]);
                Assert.Equal(entry, Math.Abs(h[i * n + j]), 1e-7f);
                double dot = 0;
                for (int k = 0; k < n; k++)
                    dot += (double)h[i * n + k] * h[k * n + j];
                Assert.Equal(i == j ? 1.0 : 0.0, dot, 1e-6);
            }
        }
        // Sylvester's sign pattern: the sign of H[i, j] is (-1)^popcount(i & j).
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
                Assert.Equal(System.Numerics.BitOperations.PopCount((uint)(i & j)) % 2 == 0, h[i * n + j] > 0);
        }
    }

    [Fact]
    public void RotatingBlocksTwiceGivesTheInputBackAndOnceTheMatrixProduct()
    {
        const int n = 64;
        var h = Hadamard.Matrix(n);
        var x = TestData.Gaussian(3 * n, seed: 5);
        var y = x.ToArray();
        var scratch = new float[n];
        Hadamard.RotateBlocks(h, y, scratch);
        for (int b = 0; b < 3; b++)
        {
            for (int i = 0; i < n; i++)
            {
                double expected = 0;
                for (int k = 0; k < n; k++)
                    expected += (double)h[i * n + k] * x[b * n + k];
                Assert.Equal(expected, y[b * n + i], 1e-5);
            }
        }
        Hadamard.RotateBlocks(h, y, scratch);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(x[i], y[i], 1e-5f);
        Assert.Throws<ArgumentException>(() => Hadamard.RotateBlocks(h, new float[n + 1], scratch));
        Assert.Throws<ArgumentOutOfRangeException>(() => Hadamard.Matrix(48));
    }
}
