using EdgeLm.Numerics.Memory;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// A row-major weight matrix W of shape [Rows, Columns] stored in one <see cref="GgmlType"/>, used as y = W x.
/// Row i is <see cref="RowBytes"/> bytes at <c>Data + i * RowStride</c> (the stride equals the row size unless the
/// matrix is a view, such as one head's slice of a KV cache). The memory is not owned: it lives in a
/// <see cref="MappedRegion"/> or other pinned buffer that the caller keeps alive while the matrix is used.
/// </summary>
public readonly unsafe struct WeightMatrix
{
    private WeightMatrix(byte* data, GgmlType type, int rows, int columns, long rowBytes, long rowStride)
    {
        Data = data;
        Type = type;
        Rows = rows;
        Columns = columns;
        RowBytes = rowBytes;
        RowStride = rowStride;
    }

    /// <summary>Address of row 0.</summary>
    public byte* Data { get; }

    /// <summary>Storage format of every element.</summary>
    public GgmlType Type { get; }

    /// <summary>Output size (number of rows).</summary>
    public int Rows { get; }

    /// <summary>Input size (weights per row); a whole number of blocks.</summary>
    public int Columns { get; }

    /// <summary>Bytes per row.</summary>
    public long RowBytes { get; }

    /// <summary>Bytes from the start of one row to the start of the next (at least <see cref="RowBytes"/>).</summary>
    public long RowStride { get; }

    /// <summary>Bytes from the first byte of row 0 to the last byte of the last row.</summary>
    public long TotalBytes => RowStride * (Rows - 1) + RowBytes;

    /// <summary>
    /// A matrix of <paramref name="rows"/> x <paramref name="columns"/> <paramref name="type"/> weights starting at
    /// <paramref name="offset"/> in <paramref name="region"/>; throws if it would run past the mapping.
    /// </summary>
    public static WeightMatrix FromRegion(MappedRegion region, long offset, GgmlType type, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(region);
        long rowBytes = CheckShape(type, rows, columns);
        long total = rowBytes * rows;
        if (offset < 0 || offset > region.Length || total > region.Length - offset)
            throw new ArgumentOutOfRangeException(nameof(offset),
                $"A {rows}x{columns} {type} matrix ({total} bytes) at offset {offset} runs past the {region.Length}-byte mapping.");
        return new WeightMatrix(region.Pointer(offset), type, rows, columns, rowBytes, rowBytes);
    }

    /// <summary>A matrix over memory the caller has pinned and keeps alive; the shape is checked, the extent cannot be.</summary>
    public static WeightMatrix FromPinned(byte* data, GgmlType type, int rows, int columns)
    {
        if (data == null)
            throw new ArgumentNullException(nameof(data));
        long rowBytes = CheckShape(type, rows, columns);
        return new WeightMatrix(data, type, rows, columns, rowBytes, rowBytes);
    }

    /// <summary>
    /// A strided view over memory the caller has pinned and keeps alive: row i starts <paramref name="rowStride"/>
    /// bytes after row i - 1 (for example one head of every position of a KV cache).
    /// </summary>
    public static WeightMatrix FromPinned(nint address, GgmlType type, int rows, int columns, long rowStride)
    {
        if (address == 0)
            throw new ArgumentNullException(nameof(address));
        long rowBytes = CheckShape(type, rows, columns);
        if (rowStride < rowBytes)
            throw new ArgumentOutOfRangeException(nameof(rowStride), rowStride, $"Rows of {rowBytes} bytes cannot start every {rowStride} bytes.");
        return new WeightMatrix((byte*)address, type, rows, columns, rowBytes, rowStride);
    }

    /// <summary>
    /// <see cref="FromPinned(byte*, GgmlType, int, int)"/> for callers without unsafe code: <paramref name="address"/>
    /// is the start of pinned or native memory (for example <c>Marshal.UnsafeAddrOfPinnedArrayElement</c> of an array
    /// allocated with <c>GC.AllocateArray(..., pinned: true)</c>).
    /// </summary>
    public static WeightMatrix FromPinned(nint address, GgmlType type, int rows, int columns) =>
        FromPinned((byte*)address, type, rows, columns);

    /// <summary>The bytes of row <paramref name="i"/>.</summary>
    public ReadOnlySpan<byte> Row(int i)
    {
        if ((uint)i >= (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(i), $"Row {i} of a {Rows}-row matrix.");
        return new ReadOnlySpan<byte>(Data + i * RowStride, checked((int)RowBytes));
    }

    private static long CheckShape(GgmlType type, int rows, int columns)
    {
        if (!VecDot.IsSupported(type))
            throw new NotSupportedException($"Weight matrices of type {type} are not supported.");
        if (rows <= 0)
            throw new ArgumentOutOfRangeException(nameof(rows), $"A weight matrix needs at least one row, got {rows}.");
        int block = GgmlTypeInfo.BlockSize(type);
        if (columns <= 0 || columns % block != 0)
            throw new ArgumentException($"A {type} row must hold a positive multiple of {block} weights, got {columns}.", nameof(columns));
        return GgmlTypeInfo.RowBytes(type, columns);
    }
}
