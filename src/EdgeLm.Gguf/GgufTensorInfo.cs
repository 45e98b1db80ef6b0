using EdgeLm.Numerics.Quants;

namespace EdgeLm.Gguf;

/// <summary>
/// Where one tensor lives in a GGUF file and what shape it has. Dimensions are in ggml order: [0] is the row length
/// (the innermost, contiguous dimension), so a weight matrix W of our shape [out, in] is stored as (in, out).
/// Every field was validated against the file when it was read.
/// </summary>
public sealed class GgufTensorInfo
{
    private readonly long[] _dimensions;

    internal GgufTensorInfo(string name, GgmlType type, long[] dimensions, long elementCount, long byteSize, long offset, long fileOffset)
    {
        Name = name;
        Type = type;
        _dimensions = dimensions;
        ElementCount = elementCount;
        ByteSize = byteSize;
        Offset = offset;
        FileOffset = fileOffset;
    }

    /// <summary>The tensor's name, e.g. <c>blk.0.attn_q.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Element type (a block format for quantized tensors).</summary>
    public GgmlType Type { get; }

    /// <summary>A copy of the dimensions in ggml order: [0] is the row length. Rank 1..4, every dimension &gt; 0.</summary>
    public long[] Dimensions => (long[])_dimensions.Clone();

    /// <summary>Number of dimensions (1..4).</summary>
    public int Rank => _dimensions.Length;

    /// <summary>Dimension <paramref name="i"/> in ggml order, without copying the array.</summary>
    public long Dimension(int i) => _dimensions[i];

    /// <summary>Elements per row: dimension 0, a whole number of the type's blocks.</summary>
    public long RowLength => _dimensions[0];

    /// <summary>Number of rows: the product of dimensions 1.. (1 for a vector).</summary>
    public long RowCount => ElementCount / _dimensions[0];

    /// <summary>Product of all dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>Bytes of tensor data: rows x bytes per row for the type's block geometry.</summary>
    public long ByteSize { get; }

    /// <summary>Offset of the data relative to the start of the data section (a multiple of the file's alignment).</summary>
    public long Offset { get; }

    /// <summary>Absolute offset of the data in the file.</summary>
    public long FileOffset { get; }

    /// <summary>Name, type and shape, e.g. <c>output.weight F32 [64, 512]</c>.</summary>
    public override string ToString() => $"{Name} {Type} [{string.Join(", ", _dimensions)}]";
}
