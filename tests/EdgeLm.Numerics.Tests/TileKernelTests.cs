using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Tests;

/// <summary>
/// The tile kernels behind <see cref="VecDot.Dot"/> and <see cref="MatMul"/>: float formats at every column count
/// (their block size is 1, so the last columns % 8 take a separate path), F16 special values, and every tile shape
/// (2 rows x 1 token, 1 row x 1-4 tokens) giving each output exactly as a single dot product would.
/// </summary>
public class TileKernelTests
{
    private static readonly int[] OddColumns = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 255, 257, 1023];

    public static TheoryData<GgmlType> FloatTypes() => [GgmlType.F32, GgmlType.F16, GgmlType.BF16];

    public static TheoryData<GgmlType> AllTypes()
    {
        var data = new TheoryData<GgmlType>();
        foreach (var t in TestData.WeightTypes)
            data.Add(t);
        return data;
    }

    private static byte[] Activations(GgmlType type, float[] x)
    {
        var a = new byte[VecDot.ActivationRowBytes(type, x.Length)];
        VecDot.QuantizeActivations(type, x, a);
        return a;
    }

    /// <summary>
    /// Float formats at odd lengths: within (n + 16) units of 2^-24 of sum |w_i a_i|, twice over (both the reference's
    /// double sum and the kernel's eight float lanes plus a tail of at most seven products are within half of that).
    /// </summary>
    [Theory]
    [MemberData(nameof(FloatTypes))]
    [Trait("Category", "Simd")]
    public void FloatFormatsMatchTheReferenceAtEveryLength(GgmlType type)
    {
        foreach (int n in OddColumns)
        {
            var w = new byte[GgmlTypeInfo.RowBytes(type, n)];
            Quantize.Row(type, TestData.Gaussian(n, seed: 10 + n), w);
            var a = Activations(type, TestData.Gaussian(n, seed: 20 + n));
            float fast = VecDot.Dot(type, w, a, n);
            float reference = VecDot.DotReference(type, w, a, n);
            double limit = 2 * (n + 16) * Math.Pow(2, -24) * DotTests.TermMagnitude(type, w, a, n);
            Assert.True(Math.Abs(fast - reference) <= limit, $"{type} n={n}: fast {fast} reference {reference} ({VecDot.Backend})");
        }
    }

    /// <summary>
    /// F16 weights are widened with integer operations that do not carry infinities and NaNs: rows holding one must
    /// still give what the reference gives (the same infinity, or NaN), and subnormal and largest halves stay exact.
    /// </summary>
    [Theory]
    [InlineData((ushort)0x7C00, 40)]  // +infinity, in the vector part
    [InlineData((ushort)0xFC00, 3)]   // -infinity, in the first group
    [InlineData((ushort)0x7E00, 97)]  // NaN, in the tail of 100 columns
    [InlineData((ushort)0x0001, 17)]  // smallest subnormal
    [InlineData((ushort)0x83FF, 64)]  // largest negative subnormal
    [InlineData((ushort)0x7BFF, 8)]   // largest finite
    [Trait("Category", "Simd")]
    public void F16SpecialValuesFollowTheReference(ushort special, int at)
    {
        const int n = 100;
        var halves = new ushort[n];
        var x = TestData.Gaussian(n, seed: 5, std: 0.5f);
        HalfConvert.ToHalf(TestData.Gaussian(n, seed: 6), halves);
        halves[at] = special;
        var w = MemoryMarshal.AsBytes(halves.AsSpan()).ToArray();
        var a = Activations(GgmlType.F16, x);
        float fast = VecDot.Dot(GgmlType.F16, w, a, n);
        float reference = VecDot.DotReference(GgmlType.F16, w, a, n);
        if (float.IsNaN(reference) || float.IsInfinity(reference))
        {
            Assert.Equal(reference, fast);
            return;
        }
        double limit = 2 * (n + 16) * Math.Pow(2, -24) * DotTests.TermMagnitude(GgmlType.F16, w, a, n);
        Assert.True(Math.Abs(fast - reference) <= limit, $"fast {fast} reference {reference}");
    }

    /// <summary>
    /// Every finite half (zeros, all 2046 subnormals, every normal) widens to its exact value in the decode tiles and in
    /// the prompt panels: the matrix holds each half once, 32 to a row, and one-hot activations (1.0 at one column, 0
    /// elsewhere) pick out each weight, so every output is that weight times one plus zeros, exactly.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [Trait("Category", "Simd")]
    public void F16KernelsWidenEveryFiniteHalfExactly(int tokensPerCall)
    {
        const int columns = 32;
        var finite = new List<ushort>();
        for (int bits = 0; bits < 0x10000; bits++)
        {
            if ((bits & 0x7C00) != 0x7C00)
                finite.Add((ushort)bits);
        }
        int rows = finite.Count / columns; // 63488 = 1984 x 32
        Assert.Equal(rows * columns, finite.Count);
        var halves = GC.AllocateArray<ushort>(finite.Count, pinned: true);
        finite.CopyTo(halves);
        var w = WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(halves, 0), GgmlType.F16, rows, columns);
        using var matmul = new MatMul(1);
        var y = new float[tokensPerCall * rows];
        for (int first = 0; first < columns; first += tokensPerCall)
        {
            var x = new float[tokensPerCall * columns];
            for (int t = 0; t < tokensPerCall; t++)
                x[t * columns + first + t] = 1f;
            matmul.Multiply(w, x, y, tokensPerCall);
            for (int t = 0; t < tokensPerCall; t++)
            {
                for (int r = 0; r < rows; r++)
                {
                    ushort h = halves[r * columns + first + t];
                    float expected = (float)BitConverter.UInt16BitsToHalf(h);
                    float got = y[t * rows + r];
                    if (got != expected)
                        Assert.Fail($"half 0x{h:X4} came out {got}, expected {expected} ({tokensPerCall} tokens per call)");
                }
            }
        }
        GC.KeepAlive(halves);
    }

    /// <summary>
    /// The same special halves inside a matrix: the prompt path (rows widened once into a panel) must give every
    /// output exactly as the single dot product does, whichever rows hold the infinity or NaN.
    /// </summary>
    [Theory]
    [InlineData((ushort)0x7C00)]
    [InlineData((ushort)0x7E00)]
    [Trait("Category", "Simd")]
    public void F16SpecialValuesInAMatrixFollowTheSingleDotProduct(ushort special)
    {
        const int rows = 19, columns = 45;
        var halves = GC.AllocateArray<ushort>(rows * columns, pinned: true);
        HalfConvert.ToHalf(TestData.Gaussian(rows * columns, seed: 8), halves);
        halves[3 * columns + 41] = special; // row 3, in the tail
        halves[10 * columns + 5] = special; // row 10, in the vector part
        var w = WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(halves, 0), GgmlType.F16, rows, columns);
        foreach (int tokens in new[] { 1, 6 })
        {
            var x = TestData.Gaussian(tokens * columns, seed: 9);
            var y = new float[tokens * rows];
            using var matmul = new MatMul(1);
            matmul.Multiply(w, x, y, tokens);
            var act = new byte[VecDot.ActivationRowBytes(GgmlType.F16, columns)];
            for (int t = 0; t < tokens; t++)
            {
                VecDot.QuantizeActivations(GgmlType.F16, x.AsSpan(t * columns, columns), act);
                for (int r = 0; r < rows; r++)
                    Assert.Equal(VecDot.Dot(GgmlType.F16, w.Row(r), act, columns), y[t * rows + r]);
            }
        }
        GC.KeepAlive(halves);
    }

    /// <summary>
    /// Every token count (1-9: groups of four plus the 1-3 remainders), odd row counts (a single row left after the
    /// pairs of decode), and 1-3 threads: each output equals VecDot.Dot of its row and token exactly.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllTypes))]
    [Trait("Category", "Simd")]
    public void EveryTileShapeGivesTheSingleDotProduct(GgmlType type)
    {
        // Big enough (rows x columns >= 2^15) that even one token is split across threads.
        int columns = GgmlTypeInfo.BlockSize(type) == 256 ? 512 : GgmlTypeInfo.BlockSize(type) == 1 ? 133 : 160;
        const int rows = 251;
        long rowBytes = GgmlTypeInfo.RowBytes(type, columns);
        var m = GC.AllocateUninitializedArray<byte>((int)(rowBytes * rows), pinned: true);
        for (int r = 0; r < rows; r++)
            TestData.WeightRow(type, columns, seed: 50 + r).CopyTo(m.AsSpan((int)(r * rowBytes)));
        var w = WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(m, 0), type, rows, columns);
        var act = new byte[VecDot.ActivationRowBytes(type, columns)];
        foreach (int tokens in new[] { 1, 2, 3, 4, 5, 9 })
        {
            var x = TestData.Gaussian(tokens * columns, seed: 60 + tokens);
            var expected = new float[tokens * rows];
            for (int t = 0; t < tokens; t++)
            {
                VecDot.QuantizeActivations(type, x.AsSpan(t * columns, columns), act);
                for (int r = 0; r < rows; r++)
                    expected[t * rows + r] = VecDot.Dot(type, w.Row(r), act, columns);
            }
            foreach (int threads in new[] { 1, 2, 3 })
            {
                using var matmul = new MatMul(threads);
                var y = new float[tokens * rows];
                matmul.Multiply(w, x, y, tokens);
                Assert.True(expected.AsSpan().SequenceEqual(y), $"{type}: {tokens} tokens on {threads} threads differ from single dot products");
            }
        }
        GC.KeepAlive(m);
    }

    /// <summary>
    /// The legacy formats' eight-row decode kernel and the prompt panels widen the rows' block scales (and Q4_1/Q5_1
    /// offsets) in vector registers, while the single dot product looks them up one by one: with D and M set to zeros,
    /// subnormals, the smallest and largest normals of both signs, and infinity, every output of 1 and of 16 tokens
    /// still equals VecDot.Dot of its row and token (NaN where it gives NaN).
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_1)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q5_1)]
    [InlineData(GgmlType.Q8_0)]
    [Trait("Category", "Simd")]
    public void LegacyDecodeRowsWidenSpecialBlockScalesAsTheSingleDotProduct(GgmlType type)
    {
        ushort[] specials = [0x0000, 0x8000, 0x0001, 0x83FF, 0x0400, 0x8400, 0x7BFF, 0xFBFF, 0x3C00, 0x7C00];
        const int rows = 24, columns = 32 * 13;
        int blockBytes = (int)GgmlTypeInfo.RowBytes(type, 32);
        long rowBytes = GgmlTypeInfo.RowBytes(type, columns);
        var m = GC.AllocateUninitializedArray<byte>((int)(rowBytes * rows), pinned: true);
        bool hasMin = type is GgmlType.Q4_1 or GgmlType.Q5_1;
        for (int r = 0; r < rows; r++)
        {
            var row = m.AsSpan((int)(r * rowBytes), (int)rowBytes);
            TestData.WeightRow(type, columns, seed: 90 + r).CopyTo(row);
            for (int b = 0; b < columns / 32; b++)
            {
                // Rows 16-23 keep their real scales; the others take the special halves in turn.
                if (r >= 16)
                    continue;
                int k = r * 13 + b;
                BitConverter.TryWriteBytes(row.Slice(b * blockBytes, 2), specials[k % specials.Length]);
                if (hasMin)
                    BitConverter.TryWriteBytes(row.Slice(b * blockBytes + 2, 2), specials[(k / 3) % specials.Length]);
            }
        }
        var w = WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(m, 0), type, rows, columns);
        var act = new byte[VecDot.ActivationRowBytes(type, columns)];
        using var matmul = new MatMul(1);
        foreach (int tokens in new[] { 1, 16 })
        {
            var x = TestData.Gaussian(tokens * columns, seed: 91);
            var y = new float[tokens * rows];
            matmul.Multiply(w, x, y, tokens);
            for (int t = 0; t < tokens; t++)
            {
                VecDot.QuantizeActivations(type, x.AsSpan(t * columns, columns), act);
                for (int r = 0; r < rows; r++)
                {
                    float expected = VecDot.Dot(type, w.Row(r), act, columns), got = y[t * rows + r];
                    if (float.IsNaN(expected))
                        Assert.True(float.IsNaN(got), $"{type} row {r} token {t}/{tokens}: {got}, expected NaN");
                    else
                        Assert.True(expected == got, $"{type} row {r} token {t}/{tokens}: {got}, expected {expected}");
                }
            }
        }
        GC.KeepAlive(m);
    }

    /// <summary>
    /// The prompt panels (sixteen rows with AVX-512, eight rows, then one-row tiles for the rest) over odd numbers of
    /// blocks, and for the float formats odd column counts (the tail past the last eight columns): 43 rows against 67
    /// tokens (enough for every panel, Q2_K's starts at 64; sixteen groups of four and three more) on one thread, each
    /// output equal to VecDot.Dot of its row and token.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllTypes))]
    [Trait("Category", "Simd")]
    public void PromptPanelsGiveTheSingleDotProductAtOddLengths(GgmlType type)
    {
        const int rows = 43, tokens = 67;
        int block = GgmlTypeInfo.BlockSize(type);
        int[] lengths = block == 1 ? [1, 7, 9, 31, 67] : block == 256 ? [256, 768] : [32, 96, 224, 544];
        foreach (int columns in lengths)
        {
            long rowBytes = GgmlTypeInfo.RowBytes(type, columns);
            var m = GC.AllocateUninitializedArray<byte>((int)(rowBytes * rows), pinned: true);
            for (int r = 0; r < rows; r++)
                TestData.WeightRow(type, columns, seed: 300 + r).CopyTo(m.AsSpan((int)(r * rowBytes)));
            var w = WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(m, 0), type, rows, columns);
            var x = TestData.Gaussian(tokens * columns, seed: 400 + columns);
            var y = new float[tokens * rows];
            using (var matmul = new MatMul(1))
                matmul.Multiply(w, x, y, tokens);
            var act = new byte[VecDot.ActivationRowBytes(type, columns)];
            for (int t = 0; t < tokens; t++)
            {
                VecDot.QuantizeActivations(type, x.AsSpan(t * columns, columns), act);
                for (int r = 0; r < rows; r++)
                {
                    float expected = VecDot.Dot(type, w.Row(r), act, columns);
                    Assert.True(expected == y[t * rows + r], $"{type} columns={columns} row {r} token {t}: {y[t * rows + r]} != {expected} ({VecDot.Backend})");
                }
            }
            GC.KeepAlive(m);
        }
    }

    /// <summary>
    /// F16 rows full of subnormal halves (weights of magnitude ~1e-5, as small trained weights have): the prompt panels
    /// and the decode tiles, which multiply true-valued weights to avoid subnormal FMA operands, still give exactly the
    /// single dot product.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [Trait("Category", "Simd")]
    public void F16KernelsWithSubnormalHalvesGiveTheSingleDotProduct(int tokens)
    {
        const int rows = 24, columns = 200;
        var rng = new Random(77);
        var m = GC.AllocateUninitializedArray<byte>(rows * columns * 2, pinned: true);
        var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(m.AsSpan());
        int subnormal = 0;
        for (int i = 0; i < halves.Length; i++)
        {
            halves[i] = (Half)((rng.NextDouble() * 2 - 1) * 1e-4);
            if (Half.IsSubnormal(halves[i]))
                subnormal++;
        }
        Assert.True(subnormal > halves.Length / 4, $"only {subnormal} subnormal halves");
        var w = WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(m, 0), GgmlType.F16, rows, columns);
        var x = TestData.Gaussian(tokens * columns, seed: 78);
        var y = new float[tokens * rows];
        using (var matmul = new MatMul(1))
            matmul.Multiply(w, x, y, tokens);
        var act = new byte[VecDot.ActivationRowBytes(GgmlType.F16, columns)];
        for (int t = 0; t < tokens; t++)
        {
            VecDot.QuantizeActivations(GgmlType.F16, x.AsSpan(t * columns, columns), act);
            for (int r = 0; r < rows; r++)
                Assert.Equal(VecDot.Dot(GgmlType.F16, w.Row(r), act, columns), y[t * rows + r]);
        }
        GC.KeepAlive(m);
    }

    /// <summary>
    /// The Q4_K panel's scale and min pairs, D and DMin, built with byte permutes (AVX-512 VBMI) equal the row-by-row
    /// build byte for byte, over random superblocks of sixteen rows (the codes are built by the same code either way).
    /// </summary>
    [Fact]
    [Trait("Category", "Simd")]
    public void Q4KPanelScalesTransposedEqualTheRowByRowBuild()
    {
        if (!System.Runtime.Intrinsics.X86.Avx512Vbmi.IsSupported)
            return; // the transposed build runs only where VBMI is; elsewhere the row-by-row build is the only one
        const int columns = 512, rows = 16;
        int stride = (int)GgmlTypeInfo.RowBytes(GgmlType.Q4_K, columns);
        var m = new byte[stride * rows];
        for (int seed = 0; seed < 20; seed++)
        {
            for (int r = 0; r < rows; r++)
                TestData.WeightRow(GgmlType.Q4_K, columns, seed: 1000 * seed + r).CopyTo(m.AsSpan(r * stride));
            for (int block = 0; block < columns / 256; block++)
            {
                var byRow = new byte[X86Tiles.Q4KPanelBlockBytes];
                var transposed = new byte[X86Tiles.Q4KPanelBlockBytes];
                X86Tiles.BuildQ4KPanelScales(m.AsSpan(block * BlockQ4_K.ByteSize), stride, byRow, transposed: false);
                X86Tiles.BuildQ4KPanelScales(m.AsSpan(block * BlockQ4_K.ByteSize), stride, transposed, transposed: true);
                Assert.True(byRow.AsSpan(64 * 64).SequenceEqual(transposed.AsSpan(64 * 64)), $"seed {seed}, superblock {block}");
                Assert.Contains(byRow.Skip(64 * 64), b => b != 0);
            }
        }
    }

    /// <summary>
    /// The two- and three-matrix products (one job, activations prepared once per layout) give exactly what single
    /// products give, for matrices of one type, of types sharing a layout (Q4_K with Q6_K), and of unrelated types.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_0, GgmlType.Q4_0, GgmlType.Q4_0)]
    [InlineData(GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K)]
    [InlineData(GgmlType.Q8_0, GgmlType.F16, GgmlType.Q4_1)]
    [Trait("Category", "Simd")]
    public void MultiMatrixProductsEqualSingleProducts(GgmlType t1, GgmlType t2, GgmlType t3)
    {
        const int columns = 512;
        var types = new[] { t1, t2, t3 };
        var rows = new[] { 136, 72, 251 };
        var arrays = new byte[3][];
        var matrices = new WeightMatrix[3];
        for (int i = 0; i < 3; i++)
        {
            long rowBytes = GgmlTypeInfo.RowBytes(types[i], columns);
            arrays[i] = GC.AllocateUninitializedArray<byte>((int)(rowBytes * rows[i]), pinned: true);
            for (int r = 0; r < rows[i]; r++)
                TestData.WeightRow(types[i], columns, seed: 1000 * i + r).CopyTo(arrays[i].AsSpan((int)(r * rowBytes)));
            matrices[i] = WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(arrays[i], 0), types[i], rows[i], columns);
        }
        foreach (int tokens in new[] { 1, 6 })
        {
            var x = TestData.Gaussian(tokens * columns, seed: 77 + tokens);
            foreach (int threads in new[] { 1, 2 })
            {
                using var matmul = new MatMul(threads);
                var single = new float[3][];
                for (int i = 0; i < 3; i++)
                {
                    single[i] = new float[tokens * rows[i]];
                    matmul.Multiply(matrices[i], x, single[i], tokens);
                }
                var y1 = new float[tokens * rows[0]];
                var y2 = new float[tokens * rows[1]];
                var y3 = new float[tokens * rows[2]];
                matmul.Multiply(matrices[0], y1, matrices[1], y2, matrices[2], y3, x, tokens);
                Assert.Equal(single[0], y1);
                Assert.Equal(single[1], y2);
                Assert.Equal(single[2], y3);
                Array.Clear(y1);
                Array.Clear(y2);
                matmul.Multiply(matrices[0], y1, matrices[1], y2, x, tokens);
                Assert.Equal(single[0], y1);
                Assert.Equal(single[1], y2);
            }
        }
        GC.KeepAlive(arrays);
    }
}
