using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Runtime.KvCache;

/// <summary>
/// Keys and values of every block for every position seen so far. Per block:
/// <list type="bullet">
/// <item>keys position-major, [Capacity, KeyValueLength], in <see cref="KeyType"/>: one head of one position is a
/// contiguous run (HeadDimension halves, or HeadDimension / 32 Q8_0 blocks), so the keys of one head over all
/// positions form a strided matrix [positions, HeadDimension] that attention multiplies the queries by;</item>
/// <item>F16 values transposed, [KeyValueLength, PaddedCapacity], as llama.cpp stores them without flash attention:
/// one dimension of one head over all positions is a contiguous run, so attention's weighted sum of values is a
/// matrix [HeadDimension, positions] times the probabilities, summed over positions like any other dot product;</item>
/// <item>Q8_0 values position-major like the keys, [Capacity, KeyValueLength] in blocks of 32 along the head
/// dimension, as llama.cpp stores a quantized V cache (which it allows only with flash attention): blocks are
/// whole only along a position's row, and the values are summed one position at a time.</item>
/// </list>
/// Q8_0 rows are quantized as llama.cpp's CPU backend writes its cache (scale amax / 127, codes round-half-even).
/// Like llama.cpp (which does it unless LLAMA_ATTN_ROT_DISABLE is set), a quantized side is stored rotated when the
/// heads are a multiple of 64 wide: keys by the orthonormal Walsh-Hadamard matrix of the largest power-of-two order
/// dividing the head width (<see cref="KeyRotation"/>), values by 64 x 64 blocks (<see cref="ValueRotation"/>).
/// Attention then rotates the queries the same way (<see cref="ApplyKeyRotation"/>: q·k is unchanged) and rotates its
/// output back (<see cref="ApplyValueRotation"/>, its own inverse). Rotation spreads outliers before 8-bit rounding.
/// Invariant: F16 value columns at or past <see cref="Length"/> that no pending forward pass has written hold zeros,
/// so a dot product over positions may run on to the next multiple of 8 (with zero probabilities) and stay finite.
/// </summary>
public sealed class KeyValueCache
{
    private readonly byte[][] _keys;
    private readonly byte[][] _values;
    private readonly ushort[] _staging;
    private readonly float[]? _keyHadamard, _valueHadamard;
    private readonly float[] _rotated, _rotationScratch;
    private readonly long _keyRowBytes, _valueRowBytes, _keyHeadBytes, _valueHeadBytes;

    /// <summary>
    /// Allocates a cache for <paramref name="capacity"/> positions of heads <paramref name="headDimension"/> wide,
    /// keys stored as <paramref name="keyType"/> and values as <paramref name="valueType"/>;
    /// <paramref name="rotateQuantized"/> false stores quantized sides unrotated.
    /// </summary>
    /// <exception cref="NotSupportedException">Q8_0 asked for heads that are not a multiple of 32 wide.</exception>
    public KeyValueCache(int blockCount, int capacity, int keyValueLength, int headDimension,
        KvCacheType keyType = KvCacheType.F16, KvCacheType valueType = KvCacheType.F16, bool rotateQuantized = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keyValueLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDimension);
        if (keyValueLength % headDimension != 0)
            throw new ArgumentException($"The key width {keyValueLength} is not a whole number of {headDimension}-wide heads.", nameof(headDimension));
        CheckType(keyType, headDimension, "key");
        CheckType(valueType, headDimension, "value");
        Capacity = capacity;
        PaddedCapacity = (capacity + 7) & ~7;
        KeyValueLength = keyValueLength;
        HeadDimension = headDimension;
        KeyType = keyType;
        ValueType = valueType;
        _keyRowBytes = GgmlTypeInfo.RowBytes(KvCacheTypes.ToGgmlType(keyType), keyValueLength);
        _valueRowBytes = GgmlTypeInfo.RowBytes(KvCacheTypes.ToGgmlType(valueType), keyValueLength);
        _keyHeadBytes = GgmlTypeInfo.RowBytes(KvCacheTypes.ToGgmlType(keyType), headDimension);
        _valueHeadBytes = GgmlTypeInfo.RowBytes(KvCacheTypes.ToGgmlType(valueType), headDimension);
        long keyBytes = capacity * _keyRowBytes;
        long valueBytes = valueType == KvCacheType.F16 ? (long)PaddedCapacity * keyValueLength * sizeof(ushort) : capacity * _valueRowBytes;
        if (keyBytes > Array.MaxLength || valueBytes > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"A {capacity}-position cache of {keyValueLength}-wide rows does not fit one buffer per block.");
        _keys = new byte[blockCount][];
        _values = new byte[blockCount][];
        for (int b = 0; b < blockCount; b++)
        {
            _keys[b] = GC.AllocateArray<byte>((int)keyBytes, pinned: true);
            _values[b] = GC.AllocateArray<byte>((int)valueBytes, pinned: true);
        }
        _staging = new ushort[keyValueLength];
        bool rotatable = rotateQuantized && headDimension % 64 == 0;
        if (rotatable && keyType != KvCacheType.F16)
        {
            int order = 64;
            while (headDimension % (2 * order) == 0)
                order *= 2;
            KeyRotation = order;
            _keyHadamard = Hadamard.Matrix(order);
        }
        if (rotatable && valueType != KvCacheType.F16)
        {
            ValueRotation = 64;
            _valueHadamard = Hadamard.Matrix(64);
        }
        _rotated = new float[keyValueLength];
        _rotationScratch = new float[Math.Max(KeyRotation, ValueRotation)];
    }

    /// <summary>Positions the cache can hold: the session's context length.</summary>
    public int Capacity { get; }

    /// <summary>Capacity rounded up to a multiple of 8: the row length of the transposed F16 values.</summary>
    public int PaddedCapacity { get; }

    /// <summary>Width of the keys (and of the values) of one position: KV heads x head width.</summary>
    public int KeyValueLength { get; }

    /// <summary>Width of one head.</summary>
    public int HeadDimension { get; }

    /// <summary>How keys are stored.</summary>
    public KvCacheType KeyType { get; }

    /// <summary>How values are stored (F16 transposed, Q8_0 position-major).</summary>
    public KvCacheType ValueType { get; }

    /// <summary>Order of the Walsh-Hadamard rotation keys are stored under (0: none).</summary>
    public int KeyRotation { get; }

    /// <summary>Order of the Walsh-Hadamard rotation values are stored under (0: none).</summary>
    public int ValueRotation { get; }

    /// <summary>Positions filled, 0..Length-1; the next token goes at position Length.</summary>
    public int Length { get; private set; }

    /// <summary>Bytes the cache's keys and values occupy.</summary>
    public long ByteSize => (long)_keys.Length * (_keys[0].LongLength + _values[0].LongLength);

    /// <summary>
    /// Stores one position's keys and values for one block (rotated where the cache rotates, converted to the cache's
    /// types). Not thread-safe: one caller at a time.
    /// </summary>
    public void Store(int block, int position, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        if ((uint)position >= (uint)Capacity)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"The cache holds positions 0 to {Capacity - 1}.");
        if (keys.Length != KeyValueLength || values.Length != KeyValueLength)
            throw new ArgumentException($"A position holds {KeyValueLength} keys and values, got {keys.Length} and {values.Length}.");
        if (_keyHadamard is not null)
        {
            keys.CopyTo(_rotated);
            Hadamard.RotateBlocks(_keyHadamard, _rotated, _rotationScratch);
            keys = _rotated;
        }
        var keyRow = _keys[block].AsSpan((int)(position * _keyRowBytes), (int)_keyRowBytes);
        if (KeyType == KvCacheType.F16)
            HalfConvert.ToHalf(keys, MemoryMarshal.Cast<byte, ushort>(keyRow));
        else
            VecDot.QuantizeActivations(GgmlType.Q8_0, keys, keyRow);

        if (ValueType == KvCacheType.Q8_0)
        {
            if (_valueHadamard is not null)
            {
                values.CopyTo(_rotated);
                Hadamard.RotateBlocks(_valueHadamard, _rotated, _rotationScratch);
                values = _rotated;
            }
            VecDot.QuantizeActivations(GgmlType.Q8_0, values, _values[block].AsSpan((int)(position * _valueRowBytes), (int)_valueRowBytes));
            return;
        }
        HalfConvert.ToHalf(values, _staging);
        var column = MemoryMarshal.Cast<byte, ushort>(_values[block].AsSpan()).Slice(position);
        for (int i = 0; i < KeyValueLength; i++)
            column[i * PaddedCapacity] = _staging[i];
    }

    /// <summary>
    /// The keys of one block at <paramref name="position"/> as floats (dequantized and rotated back), [KeyValueLength]:
    /// what <see cref="Store"/> was given, up to the storage's rounding. Not thread-safe.
    /// </summary>
    public void ReadKeys(int block, int position, Span<float> keys)
    {
        CheckRead(position, keys.Length);
        Dequantize.Row(KvCacheTypes.ToGgmlType(KeyType), _keys[block].AsSpan((int)(position * _keyRowBytes), (int)_keyRowBytes), keys);
        ApplyKeyRotation(keys);
    }

    /// <summary>The values of one block at <paramref name="position"/> as floats, like <see cref="ReadKeys"/>.</summary>
    public void ReadValues(int block, int position, Span<float> values)
    {
        CheckRead(position, values.Length);
        if (ValueType == KvCacheType.Q8_0)
        {
            Dequantize.Row(GgmlType.Q8_0, _values[block].AsSpan((int)(position * _valueRowBytes), (int)_valueRowBytes), values);
            ApplyValueRotation(values);
            return;
        }
        var all = MemoryMarshal.Cast<byte, ushort>(_values[block].AsSpan());
        for (int i = 0; i < KeyValueLength; i++)
            values[i] = HalfConvert.ToSingle(all[i * PaddedCapacity + position]);
    }

    /// <summary>
    /// Rotates <paramref name="rows"/> (whole heads, such as the queries of a batch) as the keys are stored, in place;
    /// nothing when <see cref="KeyRotation"/> is 0. The rotation is its own inverse. Not thread-safe.
    /// </summary>
    public void ApplyKeyRotation(Span<float> rows)
    {
        if (_keyHadamard is null)
            return;
        CheckHeads(rows.Length);
        Hadamard.RotateBlocks(_keyHadamard, rows, _rotationScratch);
    }

    /// <summary>
    /// Rotates <paramref name="rows"/> (whole heads) as the values are stored, in place; on attention's output (a
    /// weighted sum of rotated values) it rotates back. Nothing when <see cref="ValueRotation"/> is 0. Not thread-safe.
    /// </summary>
    public void ApplyValueRotation(Span<float> rows)
    {
        if (_valueHadamard is null)
            return;
        CheckHeads(rows.Length);
        Hadamard.RotateBlocks(_valueHadamard, rows, _rotationScratch);
    }

    /// <summary>
    /// The keys of KV head <paramref name="head"/> of one block at positions 0..<paramref name="count"/>-1 as a
    /// matrix [count, HeadDimension] of <see cref="KeyType"/> (rows strided by one position's keys).
    /// </summary>
    public WeightMatrix KeyMatrix(int block, int head, int count)
    {
        CheckHead(head);
        if (count <= 0 || count > Capacity)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Between 1 and {Capacity} positions.");
        nint start = Marshal.UnsafeAddrOfPinnedArrayElement(_keys[block], (int)(head * _keyHeadBytes));
        return WeightMatrix.FromPinned(start, KvCacheTypes.ToGgmlType(KeyType), count, HeadDimension, _keyRowBytes);
    }

    /// <summary>
    /// F16 values only: the values of KV head <paramref name="head"/> of one block, transposed, over positions
    /// 0..<paramref name="columns"/>-1: an F16 matrix [HeadDimension, columns]. <paramref name="columns"/> may run past
    /// <see cref="Length"/> up to <see cref="PaddedCapacity"/>; those columns hold zeros or this pass's later tokens.
    /// </summary>
    public WeightMatrix ValueMatrix(int block, int head, int columns)
    {
        if (ValueType != KvCacheType.F16)
            throw new InvalidOperationException($"A {ValueType} value cache is stored by position; use {nameof(ValueRows)}.");
        CheckHead(head);
        if (columns <= 0 || columns > PaddedCapacity)
            throw new ArgumentOutOfRangeException(nameof(columns), columns, $"Between 1 and {PaddedCapacity} positions.");
        nint start = Marshal.UnsafeAddrOfPinnedArrayElement(_values[block], head * HeadDimension * PaddedCapacity * sizeof(ushort));
        return WeightMatrix.FromPinned(start, GgmlType.F16, HeadDimension, columns, (long)PaddedCapacity * sizeof(ushort));
    }

    /// <summary>
    /// Q8_0 values only: the values of KV head <paramref name="head"/> of one block at positions
    /// 0..<paramref name="count"/>-1, a Q8_0 matrix [count, HeadDimension] (rows strided by one position's values).
    /// </summary>
    public WeightMatrix ValueRows(int block, int head, int count)
    {
        if (ValueType != KvCacheType.Q8_0)
            throw new InvalidOperationException($"An F16 value cache is stored transposed; use {nameof(ValueMatrix)}.");
        CheckHead(head);
        if (count <= 0 || count > Capacity)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Between 1 and {Capacity} positions.");
        nint start = Marshal.UnsafeAddrOfPinnedArrayElement(_values[block], (int)(head * _valueHeadBytes));
        return WeightMatrix.FromPinned(start, GgmlType.Q8_0, count, HeadDimension, _valueRowBytes);
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
    /// that failed after storing must call to restore the invariant. Q8_0 values are never read past
    /// <see cref="Length"/>, so only F16 (transposed) values need it.
    /// </summary>
    public void ClearValues(int from, int to)
    {
        if (from < 0 || to > Capacity || from > to)
            throw new ArgumentOutOfRangeException(nameof(from), $"Columns {from} to {to} of {Capacity}.");
        if (from == to || ValueType != KvCacheType.F16)
            return;
        foreach (var bytes in _values)
        {
            var values = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan());
            for (int i = 0; i < KeyValueLength; i++)
                values.Slice(i * PaddedCapacity + from, to - from).Clear();
        }
    }

    private void CheckRead(int position, int length)
    {
        if ((uint)position >= (uint)Capacity)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"The cache holds positions 0 to {Capacity - 1}.");
        if (length != KeyValueLength)
            throw new ArgumentException($"A position holds {KeyValueLength} keys or values, got room for {length}.");
    }

    private void CheckHeads(int length)
    {
        if (length % HeadDimension != 0)
            throw new ArgumentException($"{length} values are not a whole number of {HeadDimension}-wide heads.");
    }

    private void CheckHead(int head)
    {
        if ((uint)head >= (uint)(KeyValueLength / HeadDimension))
            throw new ArgumentOutOfRangeException(nameof(head), head, $"KV heads run from 0 to {KeyValueLength / HeadDimension - 1}.");
    }

    private static void CheckType(KvCacheType type, int headDimension, string what)
    {
        if (!Enum.IsDefined(type))
            throw new ArgumentOutOfRangeException(what + "Type", type, "Unknown KV cache type.");
        if (type == KvCacheType.Q8_0 && headDimension % BlockQ8_0.BlockSize != 0)
            throw new NotSupportedException(
                $"A Q8_0 {what} cache quantizes blocks of {BlockQ8_0.BlockSize} along each head, but this model's heads are {headDimension} wide; use the F16 cache.");
    }
}
