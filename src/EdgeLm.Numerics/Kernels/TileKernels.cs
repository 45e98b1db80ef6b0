using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// The fast matmul kernels of one weight type on this machine: how activations are prepared for them and one
/// kernel per <see cref="ITileShape"/>. A kernel call computes Rows x Tokens outputs:
/// <c>kernel(w, wStride, a, aStride, y, yStride, columns)</c> writes the dot product of weight row r (at
/// <c>w + r * wStride</c>) with prepared activation row t (at <c>a + t * aStride</c>) to <c>y[r + t * yStride]</c>.
/// </summary>
/// <remarks>
/// Prepared activations are what <see cref="VecDot.QuantizeActivations"/> produces, re-laid out for the kernels
/// where that pays (32-byte aligned codes, block scales widened to float, per-block correction terms). Results are
/// the same whichever shape computes an output, and within a stated rounding tolerance of
/// <see cref="VecDot.DotReference"/> (float lanes instead of one sequential float sum).
/// </remarks>
internal sealed unsafe class TileKernels
{
    /// <summary>Alignment of each prepared activation row, in bytes.</summary>
    public const int RowAlignment = 64;

    /// <summary>Bytes of one prepared activation row of <c>columns</c> values (a multiple of <see cref="RowAlignment"/>).</summary>
    public required delegate*<int, int> PreparedRowBytes { get; init; }

    /// <summary>
    /// Identifies the prepared layout: kernel sets with equal values prepare identical activations (the k-quants all
    /// take the same Q8_K rows), so a job over several matrices prepares them once.
    /// </summary>
    public required int PreparedLayout { get; init; }

    /// <summary>Prepares one float activation row (<c>x, columns, dst</c>), as VecDot.QuantizeActivations would round it.</summary>
    public required delegate*<float*, int, byte*, void> Prepare { get; init; }

    /// <summary>Prepares an activation row already in <see cref="VecDot.ActivationType"/> format (<c>src, columns, dst</c>).</summary>
    public required delegate*<byte*, int, byte*, void> PrepareFromActivationFormat { get; init; }

    public required delegate*<byte*, long, byte*, long, float*, long, int, void> Tile1x1 { get; init; }
    public required delegate*<byte*, long, byte*, long, float*, long, int, void> Tile2x1 { get; init; }
    public required delegate*<byte*, long, byte*, long, float*, long, int, void> Tile1x2 { get; init; }
    public required delegate*<byte*, long, byte*, long, float*, long, int, void> Tile1x3 { get; init; }
    public required delegate*<byte*, long, byte*, long, float*, long, int, void> Tile1x4 { get; init; }

    /// <summary>
    /// Optional: eight rows against one token, <c>(w, wStride, a, y, columns)</c>, writing y[0..7]; same results as
    /// eight <see cref="Tile1x1"/> calls.
    /// </summary>
    public delegate*<byte*, long, byte*, float*, int, void> Rows8 { get; init; }

    /// <summary>Bytes of per-thread panel scratch <see cref="Panel"/> and <see cref="Panel16"/> need for rows of <c>columns</c> weights.</summary>
    public delegate*<int, int> PanelBytes { get; init; }

    /// <summary>
    /// Optional: eight rows against any number of tokens, <c>(w, wStride, a, aStride, y, yStride, columns, tokens,
    /// panel)</c>, writing y[t * yStride + r]; same results as <see cref="Tile1x1"/> calls.
    /// </summary>
    public delegate*<byte*, long, byte*, long, float*, long, int, int, byte*, void> Panel { get; init; }

    /// <summary>
    /// Optional: sixteen rows against any number of tokens (AVX-512), arguments as <see cref="Panel"/>, writing
    /// y[t * yStride + r] for r &lt; 16; same results as <see cref="Tile1x1"/> calls. <see cref="PanelBytes"/> covers it.
    /// </summary>
    public delegate*<byte*, long, byte*, long, float*, long, int, int, byte*, void> Panel16 { get; init; }

    /// <summary>True when this set has a <see cref="Panel16"/> (AVX-512 here).</summary>
    public bool HasPanel16 => Panel16 != null;

    private static readonly TileKernels?[] s_byType = Build();

    /// <summary>The kernels for <paramref name="weightType"/>, or null when this machine has none (portable path).</summary>
    public static TileKernels? For(GgmlType weightType) =>
        (uint)weightType < (uint)s_byType.Length ? s_byType[(int)weightType] : null;

    /// <summary>The kernel for a tile of <paramref name="tokens"/> tokens (1-4) of one row.</summary>
    public delegate*<byte*, long, byte*, long, float*, long, int, void> ForTokens(int tokens) => tokens switch
    {
        1 => Tile1x1,
        2 => Tile1x2,
        3 => Tile1x3,
        _ => Tile1x4,
    };

    private static TileKernels?[] Build()
    {
        int count = 0;
        foreach (GgmlType t in Enum.GetValues<GgmlType>())
            count = Math.Max(count, (int)t + 1);
        var table = new TileKernels?[count];
        if (!X86Tiles.IsSupported)
            return table;
        foreach (GgmlType t in Enum.GetValues<GgmlType>())
            table[(int)t] = X86Tiles.Create(t);
        return table;
    }
}
