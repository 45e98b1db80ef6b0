using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Tests;

/// <summary>Seeded inputs shared by the tests.</summary>
internal static class TestData
{
    /// <summary>Row lengths in blocks for the 32-weight formats, odd sizes included (as ggml's test-quantize-fns).</summary>
    public static readonly int[] SmallBlockCounts = [1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1023];

    /// <summary>Row lengths in superblocks for the 256-weight k-quants.</summary>
    public static readonly int[] SuperBlockCounts = [1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33];

    public static readonly GgmlType[] WeightTypes =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    /// <summary>Normally distributed values (Box-Muller), deterministic for a seed.</summary>
    public static float[] Gaussian(int n, int seed, float std = 1.0f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = (float)(std * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return x;
    }

    /// <summary>
    /// A weight row of <paramref name="type"/> with <paramref name="columns"/> weights. Formats the reference
    /// quantizers cover are quantized from Gaussian data; the k-quants are random bytes everywhere (every bit
    /// pattern of codes and sub-block scales is valid) with sane F16 super-block scales written over them.
    /// </summary>
    public static byte[] WeightRow(GgmlType type, int columns, int seed)
    {
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, columns)];
        if (Quantize.IsSupported(type))
        {
            Quantize.Row(type, Gaussian(columns, seed), bytes);
            return bytes;
        }
        var rng = new Random(seed);
        rng.NextBytes(bytes);
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        for (int b = 0; b < bytes.Length / blockBytes; b++)
        {
            var block = bytes.AsSpan(b * blockBytes, blockBytes);
            ushort d = HalfConvert.ToHalf((float)(0.002 + 0.01 * rng.NextDouble()));
            ushort dmin = HalfConvert.ToHalf((float)(0.001 + 0.005 * rng.NextDouble()));
            switch (type)
            {
                case GgmlType.Q2_K: Put(block, 80, d); Put(block, 82, dmin); break;
                case GgmlType.Q3_K: Put(block, 108, d); break;
                case GgmlType.Q4_K:
                case GgmlType.Q5_K: Put(block, 0, d); Put(block, 2, dmin); break;
                case GgmlType.Q6_K: Put(block, 208, d); break;
                default: throw new NotSupportedException(type.ToString());
            }
        }
        return bytes;
    }

    private static void Put(Span<byte> block, int offset, ushort value) =>
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(block[offset..], value);

    public static float[] Dequantized(GgmlType type, ReadOnlySpan<byte> row, int columns)
    {
        var y = new float[columns];
        Dequantize.Row(type, row, y);
        return y;
    }
}
