using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Memory;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Tests;

public class MatMulTests
{
    public static TheoryData<GgmlType> Types()
    {
        var data = new TheoryData<GgmlType>();
        foreach (var t in TestData.WeightTypes)
            data.Add(t);
        return data;
    }

    private static byte[] Matrix(GgmlType type, int rows, int columns, int seed)
    {
        long rowBytes = GgmlTypeInfo.RowBytes(type, columns);
        var m = GC.AllocateUninitializedArray<byte>((int)(rowBytes * rows), pinned: true);
        for (int r = 0; r < rows; r++)
            TestData.WeightRow(type, columns, seed + r).CopyTo(m.AsSpan((int)(r * rowBytes)));
        return m;
    }

    private static WeightMatrix Pinned(byte[] pinnedArray, GgmlType type, int rows, int columns) =>
        WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(pinnedArray, 0), type, rows, columns);

    /// <summary>
    /// 67 x 512 x 3 tokens is above the parallel threshold, so 2 and 3 threads really split the rows. Every output
    /// must be bit-identical across thread counts and to a VecDot.Dot of that row with that token's activations.
    /// </summary>
    [Theory]
    [MemberData(nameof(Types))]
    [Trait("Category", "Simd")]
    public void ResultsAreIdenticalForAnyThreadCountAndMatchVecDot(GgmlType type)
    {
        const int rows = 67, columns = 512, tokens = 3;
        var m = Matrix(type, rows, columns, seed: 7);
        var w = Pinned(m, type, rows, columns);
        var x = TestData.Gaussian(tokens * columns, seed: 8);
        var results = new List<float[]>();
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var matmul = new MatMul(threads);
            Assert.Equal(threads, matmul.Threads);
            var y = new float[tokens * rows];
            matmul.Multiply(w, x, y, tokens);
            matmul.Multiply(w, x, y, tokens); // reuse of scratch and workers gives the same answer
            results.Add(y);
        }
        Assert.Equal(results[0], results[1]);
        Assert.Equal(results[0], results[2]);

        var act = new byte[VecDot.ActivationRowBytes(type, columns)];
        for (int t = 0; t < tokens; t++)
        {
            VecDot.QuantizeActivations(type, x.AsSpan(t * columns, columns), act);
            for (int r = 0; r < rows; r++)
                Assert.Equal(VecDot.Dot(type, w.Row(r), act, columns), results[0][t * rows + r]);
        }
    }

    [Fact]
    public void SmallMatricesAndSingleTokensWork()
    {
        var m = Matrix(GgmlType.Q8_0, 3, 32, seed: 1);
        var w = Pinned(m, GgmlType.Q8_0, 3, 32);
        var x = TestData.Gaussian(32, 2);
        using var matmul = new MatMul(2);
        var y = new float[3];
        matmul.Multiply(w, x, y, 1);
        var act = new byte[34];
        VecDot.QuantizeActivations(GgmlType.Q8_0, x, act);
        for (int r = 0; r < 3; r++)
            Assert.Equal(VecDot.Dot(GgmlType.Q8_0, w.Row(r), act, 32), y[r]);
    }

    [Fact]
    public void ShapeMismatchesThrow()
    {
        var m = Matrix(GgmlType.F32, 4, 32, seed: 1);
        var w = Pinned(m, GgmlType.F32, 4, 32);
        using var matmul = new MatMul(1);
        Assert.Throws<ArgumentException>(() => matmul.Multiply(w, new float[31], new float[4], 1));
        Assert.Throws<ArgumentException>(() => matmul.Multiply(w, new float[32], new float[5], 1));
        Assert.Throws<ArgumentException>(() => matmul.Multiply(w, new float[32], new float[4], 2));
        Assert.Throws<ArgumentException>(() => matmul.Multiply(default, new float[32], new float[4], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MatMul(0));
    }

    [Fact]
    public void FromRegionChecksBoundsAndReadsRowsInPlace()
    {
        string path = Path.GetTempFileName();
        try
        {
            // 8 bytes of header, then a 2 x 64 Q8_0 matrix (2 blocks per row, 68 bytes per row).
            var matrix = Matrix(GgmlType.Q8_0, 2, 64, seed: 5);
            File.WriteAllBytes(path, [.. new byte[8], .. matrix]);
            using var region = MappedRegion.Open(path);
            var w = WeightMatrix.FromRegion(region, 8, GgmlType.Q8_0, 2, 64);
            Assert.Equal(68, w.RowBytes);
            Assert.Equal(136, w.TotalBytes);
            Assert.Equal(matrix.AsSpan(68, 68).ToArray(), w.Row(1).ToArray());
            Assert.Throws<ArgumentOutOfRangeException>(() => w.Row(2));
            Assert.Throws<ArgumentOutOfRangeException>(() => WeightMatrix.FromRegion(region, 9, GgmlType.Q8_0, 2, 64));
            Assert.Throws<ArgumentOutOfRangeException>(() => WeightMatrix.FromRegion(region, 8, GgmlType.Q8_0, 3, 64));
            Assert.Throws<ArgumentOutOfRangeException>(() => WeightMatrix.FromRegion(region, -1, GgmlType.Q8_0, 1, 32));
            Assert.Throws<ArgumentException>(() => WeightMatrix.FromRegion(region, 8, GgmlType.Q8_0, 2, 48));
            Assert.Throws<NotSupportedException>(() => WeightMatrix.FromRegion(region, 8, GgmlType.IQ4_NL, 1, 32));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
