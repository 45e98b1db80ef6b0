using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Runtime.Tests.KvCache;

/// <summary>The cache's layouts, sizes, rotations and round trips for F16 and Q8_0 keys and values.</summary>
public class KeyValueCacheTests
{
    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = (float)(rng.NextDouble() * 4 - 2);
        return x;
    }

    [Theory]
    [InlineData(KvCacheType.F16, KvCacheType.F16)]
    [InlineData(KvCacheType.Q8_0, KvCacheType.F16)]
    [InlineData(KvCacheType.F16, KvCacheType.Q8_0)]
    [InlineData(KvCacheType.Q8_0, KvCacheType.Q8_0)]
    public void SizesFollowTheTypes(KvCacheType keys, KvCacheType values)
    {
        // 3 blocks, 13 positions (F16 values padded to 16), 2 heads of 64.
        var cache = new KeyValueCache(3, 13, 128, 64, keys, values);
        long keyBytes = keys == KvCacheType.F16 ? 13 * 128 * 2 : 13 * 4 * 34;
        long valueBytes = values == KvCacheType.F16 ? 16 * 128 * 2 : 13 * 4 * 34;
        Assert.Equal(3 * (keyBytes + valueBytes), cache.ByteSize);
        Assert.Equal(keys, cache.KeyType);
        Assert.Equal(values, cache.ValueType);
    }

    [Theory]
    [InlineData(64, true, 64, 64)]
    [InlineData(128, true, 128, 64)]
    [InlineData(192, true, 64, 64)]
    [InlineData(96, true, 0, 0)]
    [InlineData(32, true, 0, 0)]
    [InlineData(128, false, 0, 0)]
    public void QuantizedSidesRotateLikeLlamaCpp(int headDimension, bool rotate, int keyOrder, int valueOrder)
    {
        var q8 = new KeyValueCache(1, 4, 2 * headDimension, headDimension, KvCacheType.Q8_0, KvCacheType.Q8_0, rotate);
        Assert.Equal(keyOrder, q8.KeyRotation);
        Assert.Equal(valueOrder, q8.ValueRotation);
        var f16 = new KeyValueCache(1, 4, 2 * headDimension, headDimension);
        Assert.Equal(0, f16.KeyRotation);
        Assert.Equal(0, f16.ValueRotation);
    }

    /// <summary>
    /// Read back (dequantized and rotated back), F16 is the input rounded to half; Q8_0 is within half a quantization
    /// step of a block of the stored (rotated) row: for these values, an absolute error below 2% of the row's largest.
    /// </summary>
    [Theory]
    [InlineData(KvCacheType.F16, true)]
    [InlineData(KvCacheType.Q8_0, true)]
    [InlineData(KvCacheType.Q8_0, false)]
    public void StoredRowsReadBackCloseToTheInput(KvCacheType type, bool rotate)
    {
        var cache = new KeyValueCache(2, 9, 256, 128, type, type, rotate);
        var keys = Random(256, 1);
        var values = Random(256, 2);
        cache.Store(1, 5, keys, values);
        var k = new float[256];
        var v = new float[256];
        cache.ReadKeys(1, 5, k);
        cache.ReadValues(1, 5, v);
        for (int i = 0; i < 256; i++)
        {
            if (type == KvCacheType.F16)
            {
                Assert.Equal((float)(Half)keys[i], k[i]);
                Assert.Equal((float)(Half)values[i], v[i]);
            }
            else
            {
                Assert.True(Math.Abs(keys[i] - k[i]) < 0.04f, $"key {i}: {k[i]} for {keys[i]}");
                Assert.True(Math.Abs(values[i] - v[i]) < 0.04f, $"value {i}: {v[i]} for {values[i]}");
            }
        }
        Assert.NotEqual(keys, k); // really stored in the cache's format, not kept as floats
    }

    [Fact]
    public void ValueAccessorsFollowTheLayout()
    {
        var f16 = new KeyValueCache(1, 8, 64, 32);
        var q8 = new KeyValueCache(1, 8, 64, 32, KvCacheType.Q8_0, KvCacheType.Q8_0);
        Assert.Equal(EdgeLm.Numerics.Quants.GgmlType.F16, f16.ValueMatrix(0, 1, 8).Type);
        Assert.Throws<InvalidOperationException>(() => f16.ValueRows(0, 1, 8));
        Assert.Equal(EdgeLm.Numerics.Quants.GgmlType.Q8_0, q8.ValueRows(0, 1, 8).Type);
        Assert.Equal(EdgeLm.Numerics.Quants.GgmlType.Q8_0, q8.KeyMatrix(0, 1, 8).Type);
        Assert.Equal(68, q8.KeyMatrix(0, 1, 8).RowStride); // two heads of one 34-byte block per position
        Assert.Throws<InvalidOperationException>(() => q8.ValueMatrix(0, 1, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => q8.ValueRows(0, 2, 8));
    }

    [Fact]
    public void Q8_0NeedsHeadsAMultipleOf32Wide()
    {
        var e = Assert.Throws<NotSupportedException>(() => new KeyValueCache(1, 8, 48, 24, KvCacheType.Q8_0));
        Assert.Contains("24 wide", e.Message);
        Assert.Throws<NotSupportedException>(() => new KeyValueCache(1, 8, 48, 24, KvCacheType.F16, KvCacheType.Q8_0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyValueCache(1, 8, 64, 32, (KvCacheType)7));
    }

    [Theory]
    [InlineData("f16", KvCacheType.F16)]
    [InlineData("Q8_0", KvCacheType.Q8_0)]
    [InlineData(" q8_0 ", KvCacheType.Q8_0)]
    public void CacheTypeNamesParse(string text, KvCacheType expected)
    {
        Assert.True(KvCacheTypes.TryParse(text, out var type));
        Assert.Equal(expected, type);
        Assert.True(KvCacheTypes.TryParse(KvCacheTypes.Name(type), out var again));
        Assert.Equal(type, again);
    }

    [Theory]
    [InlineData("q4_0")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("f32")]
    public void OtherCacheTypeNamesDoNotParse(string? text) => Assert.False(KvCacheTypes.TryParse(text, out _));
}
