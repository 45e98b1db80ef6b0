using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Runtime.KvCache;

/// <summary>
/// Keys and values of every block for every position seen so far, stored as IEEE half floats like llama.cpp's
/// default F16 cache. Layout per block: [Capacity, KeyValueLength], position-major, so one position's heads are
/// contiguous and one head of one position is a contiguous HeadDimension-long run.
/// </summary>
public sealed class KeyValueCache
{
    private readonly ushort[][] _keys;
    private readonly ushort[][] _values;

    /// <summary>Allocates a cache for <paramref name="capacity"/> positions.</summary>
    public KeyValueCache(int blockCount, int capacity, int keyValueLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyValueLength);
        Capacity = capacity;
        KeyValueLength = keyValueLength;
        _keys = new ushort[blockCount][];
        _values = new ushort[blockCount][];
        for (int b = 0; b < blockCount; b++)
        {
            _keys[b] = new ushort[(long)capacity * keyValueLength];
            _values[b] = new ushort[(long)capacity * keyValueLength];
        }
    }

    /// <summary>Positions the cache can hold: the session's context length.</summary>
    public int Capacity { get; }

    /// <summary>Width of the keys (and of the values) of one position: KV heads x head width.</summary>
    public int KeyValueLength { get; }

    /// <summary>Positions filled, 0..Length-1; the next token goes at position Length.</summary>
    public int Length { get; private set; }

    /// <summary>Bytes the cache occupies.</summary>
    public long ByteSize => 2L * _keys.Length * Capacity * KeyValueLength * sizeof(ushort);

    /// <summary>Stores one position's keys and values for one block (converted to half precision).</summary>
    public void Store(int block, int position, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        if ((uint)position >= (uint)Capacity)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"The cache holds positions 0 to {Capacity - 1}.");
        HalfConvert.ToHalf(keys, _keys[block].AsSpan(position * KeyValueLength, KeyValueLength));
        HalfConvert.ToHalf(values, _values[block].AsSpan(position * KeyValueLength, KeyValueLength));
    }

    /// <summary>Keys of one block, positions 0..<paramref name="count"/>-1, [count, KeyValueLength].</summary>
    public ReadOnlySpan<ushort> Keys(int block, int count) => _keys[block].AsSpan(0, count * KeyValueLength);

    /// <summary>Values of one block, positions 0..<paramref name="count"/>-1, [count, KeyValueLength].</summary>
    public ReadOnlySpan<ushort> Values(int block, int count) => _values[block].AsSpan(0, count * KeyValueLength);

    /// <summary>Marks positions up to <paramref name="length"/> as filled (after a forward pass stored them).</summary>
    public void Commit(int length)
    {
        if (length < 0 || length > Capacity)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Must be between 0 and {Capacity}.");
        Length = length;
    }

    /// <summary>Forgets positions from <paramref name="length"/> on (0 clears the cache).</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Must be between 0 and {Length}.");
        Length = length;
    }
}
