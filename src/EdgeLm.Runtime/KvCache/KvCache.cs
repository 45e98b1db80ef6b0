using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Runtime.KvCache;

/// <summary>
/// Keys and values of every block for every position seen so far, stored as IEEE half floats like llama.cpp's
/// default F16 cache (without flash attention). Per block:
/// <list type="bullet">
/// <item>keys position-major, [Capacity, KeyValueLength]: one head of one position is a contiguous HeadDimension-long
/// run, so the keys of one head over all positions form a strided matrix [positions, HeadDimension];</item>
/// <item>values transposed, [KeyValueLength, PaddedCapacity]: one dimension of one head over all positions is a
/// contiguous run, so attention's weighted sum of values is a matrix [HeadDimension, positions] times the
/// probabilities, summed over positions like any other dot product.</item>
/// </list>
/// Invariant: value columns at or past <see cref="Length"/> that no pending forward pass has written hold zeros, so
/// a dot product over positions may run on to the next multiple of 8 (with zero probabilities) and stay finite.
/// </summary>
public sealed class KeyValueCache
{
    private readonly ushort[][] _keys;
    private readonly ushort[][] _values;
    private readonly ushort[] _staging;

    /// <summary>Allocates a cache for <paramref name="capacity"/> positions of heads <paramref name="headDimension"/> wide.</summary>
    public KeyValueCache(int blockCount, int capacity, int keyValueLength, int headDimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyValueLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDimension);
        if (keyValueLength % headDimension != 0)
            throw new ArgumentException($"The key width {keyValueLength} is not a whole number of {headDimension}-wide heads.", nameof(headDimension));
        Capacity = capacity;
        PaddedCapacity = (capacity + 7) & ~7;
        KeyValueLength = keyValueLength;
        HeadDimension = headDimension;
        _keys = new ushort[blockCount][];
        _values = new ushort[blockCount][];
        for (int b = 0; b < blockCount; b++)
        {
            _keys[b] = GC.AllocateArray<ushort>(checked(capacity * keyValueLength), pinned: true);
            _values[b] = GC.AllocateArray<ushort>(checked(PaddedCapacity * keyValueLength), pinned: true);
        }
        _staging = new ushort[keyValueLength];
    }

    /// <summary>Positions the cache can hold: the session's context length.</summary>
    public int Capacity { get; }

    /// <summary>Capacity rounded up to a multiple of 8: the row length of the transposed values.</summary>
    public int PaddedCapacity { get; }

    /// <summary>Width of the keys (and of the values) of one position: KV heads x head width.</summary>
    public int KeyValueLength { get; }

    /// <summary>Width of one head.</summary>
    public int HeadDimension { get; }

    /// <summary>Positions filled, 0..Length-1; the next token goes at position Length.</summary>
    public int Length { get; private set; }

    /// <summary>Bytes the cache occupies.</summary>
    public long ByteSize => (long)_keys.Length * (Capacity + PaddedCapacity) * KeyValueLength * sizeof(ushort);

    /// <summary>Stores one position's keys and values for one block (converted to half precision).</summary>
    public void Store(int block, int position, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        if ((uint)position >= (uint)Capacity)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"The cache holds positions 0 to {Capacity - 1}.");
        HalfConvert.ToHalf(keys, _keys[block].AsSpan(position * KeyValueLength, KeyValueLength));
        HalfConvert.ToHalf(values, _staging);
        var column = _values[block].AsSpan(position);
        for (int i = 0; i < KeyValueLength; i++)
            column[i * PaddedCapacity] = _staging[i];
    }

    /// <summary>Keys of one block, positions 0..<paramref name="count"/>-1, [count, KeyValueLength].</summary>
    public ReadOnlySpan<ushort> Keys(int block, int count) => _keys[block].AsSpan(0, count * KeyValueLength);

    /// <summary>The value of dimension <paramref name="dimension"/> (of all heads) at <paramref name="position"/>, as half bits.</summary>
    public ushort Value(int block, int position, int dimension) => _values[block][dimension * PaddedCapacity + position];

    /// <summary>
    /// The keys of KV head <paramref name="head"/> of one block at positions 0..<paramref name="count"/>-1 as an F16
    /// matrix [count, HeadDimension] (rows strided by KeyValueLength).
    /// </summary>
    public WeightMatrix KeyMatrix(int block, int head, int count)
    {
        CheckHead(head);
        if (count <= 0 || count > Capacity)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Between 1 and {Capacity} positions.");
        nint start = Marshal.UnsafeAddrOfPinnedArrayElement(_keys[block], head * HeadDimension);
        return WeightMatrix.FromPinned(start, GgmlType.F16, count, HeadDimension, (long)KeyValueLength * sizeof(ushort));
    }

    /// <summary>
    /// The values of KV head <paramref name="head"/> of one block, transposed, over positions
    /// 0..<paramref name="columns"/>-1: an F16 matrix [HeadDimension, columns]. <paramref name="columns"/> may run past
    /// <see cref="Length"/> up to <see cref="PaddedCapacity"/>; those columns hold zeros or this pass's later tokens.
    /// </summary>
    public WeightMatrix ValueMatrix(int block, int head, int columns)
    {
        CheckHead(head);
        if (columns <= 0 || columns > PaddedCapacity)
            throw new ArgumentOutOfRangeException(nameof(columns), columns, $"Between 1 and {PaddedCapacity} positions.");
        nint start = Marshal.UnsafeAddrOfPinnedArrayElement(_values[block], head * HeadDimension * PaddedCapacity);
        return WeightMatrix.FromPinned(start, GgmlType.F16, HeadDimension, columns, (long)PaddedCapacity * sizeof(ushort));
    }

    /// <summary>Marks positions up to <paramref name="length"/> as filled (after a forward pass stored them).</summary>
    public void Commit(int length)
    {
        if (length < 0 || length > Capacity)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Must be between 0 and {Capacity}.");
        Length = length;
    }

    /// <summary>Forgets positions from <paramref name="length"/> on (0 clears the cache); their values become zeros again.</summary>
    public void Truncate(int length)
    {
        if (length < 0 || length > Length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Must be between 0 and {Length}.");
        ClearValues(length, Length);
        Length = length;
    }

    /// <summary>
    /// Zeroes the value columns [<paramref name="from"/>, <paramref name="to"/>) of every block: what a forward pass
    /// that failed after storing must call to restore the invariant.
    /// </summary>
    public void ClearValues(int from, int to)
    {
        if (from < 0 || to > Capacity || from > to)
            throw new ArgumentOutOfRangeException(nameof(from), $"Columns {from} to {to} of {Capacity}.");
        if (from == to)
            return;
        foreach (var values in _values)
        {
            for (int i = 0; i < KeyValueLength; i++)
                values.AsSpan(i * PaddedCapacity + from, to - from).Clear();
        }
    }

    private void CheckHead(int head)
    {
        if ((uint)head >= (uint)(KeyValueLength / HeadDimension))
            throw new ArgumentOutOfRangeException(nameof(head), head, $"KV heads run from 0 to {KeyValueLength / HeadDimension - 1}.");
    }
}
