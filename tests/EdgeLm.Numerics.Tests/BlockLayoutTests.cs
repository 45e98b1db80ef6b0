using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Tests;

public class BlockLayoutTests
{
    // Sizes from ggml-common.h's static_asserts (weights per block, bytes per block).
    [Theory]
    [InlineData(GgmlType.Q4_0, 32, 18)]
    [InlineData(GgmlType.Q4_1, 32, 20)]
    [InlineData(GgmlType.Q5_0, 32, 22)]
    [InlineData(GgmlType.Q5_1, 32, 24)]
    [InlineData(GgmlType.Q8_0, 32, 34)]
    [InlineData(GgmlType.Q8_1, 32, 36)]
    [InlineData(GgmlType.Q2_K, 256, 84)]
    [InlineData(GgmlType.Q3_K, 256, 110)]
    [InlineData(GgmlType.Q4_K, 256, 144)]
    [InlineData(GgmlType.Q5_K, 256, 176)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.Q8_K, 256, 292)]
    public void StructSizeMatchesGgmlAndTypeTable(GgmlType type, int ggmlBlockSize, int ggmlBytes)
    {
        var (size, blockSize, byteSize) = type switch
        {
            GgmlType.Q4_0 => (Unsafe.SizeOf<BlockQ4_0>(), BlockQ4_0.BlockSize, BlockQ4_0.ByteSize),
            GgmlType.Q4_1 => (Unsafe.SizeOf<BlockQ4_1>(), BlockQ4_1.BlockSize, BlockQ4_1.ByteSize),
            GgmlType.Q5_0 => (Unsafe.SizeOf<BlockQ5_0>(), BlockQ5_0.BlockSize, BlockQ5_0.ByteSize),
            GgmlType.Q5_1 => (Unsafe.SizeOf<BlockQ5_1>(), BlockQ5_1.BlockSize, BlockQ5_1.ByteSize),
            GgmlType.Q8_0 => (Unsafe.SizeOf<BlockQ8_0>(), BlockQ8_0.BlockSize, BlockQ8_0.ByteSize),
            GgmlType.Q8_1 => (Unsafe.SizeOf<BlockQ8_1>(), BlockQ8_1.BlockSize, BlockQ8_1.ByteSize),
            GgmlType.Q2_K => (Unsafe.SizeOf<BlockQ2_K>(), BlockQ2_K.BlockSize, BlockQ2_K.ByteSize),
            GgmlType.Q3_K => (Unsafe.SizeOf<BlockQ3_K>(), BlockQ3_K.BlockSize, BlockQ3_K.ByteSize),
            GgmlType.Q4_K => (Unsafe.SizeOf<BlockQ4_K>(), BlockQ4_K.BlockSize, BlockQ4_K.ByteSize),
            GgmlType.Q5_K => (Unsafe.SizeOf<BlockQ5_K>(), BlockQ5_K.BlockSize, BlockQ5_K.ByteSize),
            GgmlType.Q6_K => (Unsafe.SizeOf<BlockQ6_K>(), BlockQ6_K.BlockSize, BlockQ6_K.ByteSize),
            GgmlType.Q8_K => (Unsafe.SizeOf<BlockQ8_K>(), BlockQ8_K.BlockSize, BlockQ8_K.ByteSize),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
        Assert.Equal(ggmlBytes, size);
        Assert.Equal(ggmlBytes, byteSize);
        Assert.Equal(ggmlBytes, GgmlTypeInfo.BlockBytes(type));
        Assert.Equal(ggmlBlockSize, blockSize);
        Assert.Equal(ggmlBlockSize, GgmlTypeInfo.BlockSize(type));
    }

    // Offsets of every field after the first, read off ggml-common.h's struct definitions.
    [Theory]
    [InlineData(typeof(BlockQ4_1), "M", 2)]
    [InlineData(typeof(BlockQ4_1), "Qs", 4)]
    [InlineData(typeof(BlockQ5_0), "Qh", 2)]
    [InlineData(typeof(BlockQ5_0), "Qs", 6)]
    [InlineData(typeof(BlockQ5_1), "M", 2)]
    [InlineData(typeof(BlockQ5_1), "Qh", 4)]
    [InlineData(typeof(BlockQ5_1), "Qs", 8)]
    [InlineData(typeof(BlockQ8_0), "Qs", 2)]
    [InlineData(typeof(BlockQ8_1), "S", 2)]
    [InlineData(typeof(BlockQ8_1), "Qs", 4)]
    [InlineData(typeof(BlockQ2_K), "Qs", 16)]
    [InlineData(typeof(BlockQ2_K), "D", 80)]
    [InlineData(typeof(BlockQ2_K), "DMin", 82)]
    [InlineData(typeof(BlockQ3_K), "Qs", 32)]
    [InlineData(typeof(BlockQ3_K), "Scales", 96)]
    [InlineData(typeof(BlockQ3_K), "D", 108)]
    [InlineData(typeof(BlockQ4_K), "DMin", 2)]
    [InlineData(typeof(BlockQ4_K), "Scales", 4)]
    [InlineData(typeof(BlockQ4_K), "Qs", 16)]
    [InlineData(typeof(BlockQ5_K), "Scales", 4)]
    [InlineData(typeof(BlockQ5_K), "Qh", 16)]
    [InlineData(typeof(BlockQ5_K), "Qs", 48)]
    [InlineData(typeof(BlockQ6_K), "Qh", 128)]
    [InlineData(typeof(BlockQ6_K), "Scales", 192)]
    [InlineData(typeof(BlockQ6_K), "D", 208)]
    [InlineData(typeof(BlockQ8_K), "Qs", 4)]
    [InlineData(typeof(BlockQ8_K), "BSums", 260)]
    public void FieldOffsetMatchesGgml(Type block, string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf(block, field));
}
