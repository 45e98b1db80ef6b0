namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// The shape of one call of a tile kernel: <see cref="Rows"/> weight rows against <see cref="Tokens"/> prepared
/// activation rows. A kernel is written once over this interface and the JIT specialises it per shape struct,
/// folding the shape tests away. Shapes are 2x1 (decode: two rows share each activation load) or 1xC with C up to 4
/// (prompt processing: one weight block, unpacked once, meets up to four tokens).
/// </summary>
/// <remarks>
/// Every output is accumulated by exactly the same sequence of operations whatever the shape, so a result does not
/// depend on which tile (or which thread) computed it.
/// </remarks>
internal interface ITileShape
{
    /// <summary>Weight rows per call: 1 or 2.</summary>
    static abstract int Rows { get; }

    /// <summary>Activation rows (tokens) per call: 1 to 4, and 1 whenever <see cref="Rows"/> is 2.</summary>
    static abstract int Tokens { get; }
}

/// <summary>One row, one token.</summary>
internal struct Tile1x1 : ITileShape
{
    public static int Rows => 1;
    public static int Tokens => 1;
}

/// <summary>Two rows, one token (decode).</summary>
internal struct Tile2x1 : ITileShape
{
    public static int Rows => 2;
    public static int Tokens => 1;
}

/// <summary>One row, two tokens.</summary>
internal struct Tile1x2 : ITileShape
{
    public static int Rows => 1;
    public static int Tokens => 2;
}

/// <summary>One row, three tokens.</summary>
internal struct Tile1x3 : ITileShape
{
    public static int Rows => 1;
    public static int Tokens => 3;
}

/// <summary>One row, four tokens.</summary>
internal struct Tile1x4 : ITileShape
{
    public static int Rows => 1;
    public static int Tokens => 4;
}
