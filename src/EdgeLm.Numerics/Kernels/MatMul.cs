using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using EdgeLm.Numerics.Quants;
using EdgeLm.Numerics.Threading;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Matrix times vector(s), Y = X W^T, with llama.cpp's semantics: each activation row is converted once to the
/// weight type's activation format (<see cref="VecDot.ActivationType"/>), then every output is one
/// <see cref="VecDot"/> dot product. Rows of W are split across <see cref="Threads"/> workers; every output is
/// computed by one kernel call whatever the split, so results are identical for any thread count.
/// </summary>
/// <remarks>
/// Owns the scratch for prepared activations (grown on demand, then reused: no allocation per call in steady
/// state) and a <see cref="WorkerPool"/>. One instance per session or per caller thread: not thread-safe.
/// </remarks>
public sealed unsafe partial class MatMul : IDisposable
{
    // Below this many weights a matrix is done on the calling thread: waking workers would cost more.
    private const long ParallelThreshold = 1 << 15;

    private readonly WorkerPool _pool;
    private readonly Action<int> _runPart;
    private byte[] _scratch = [];
    private byte* _scratchPointer;

    // The job in flight (valid only during Multiply).
    private WeightMatrix _w;
    private byte* _activations;
    private int _activationRowBytes;
    private float* _y;
    private int _tokens;
    private delegate*<byte*, byte*, int, float> _kernel;

    /// <summary>Creates a multiplier that splits work across <paramref name="threads"/> threads (the caller's included).</summary>
    public MatMul(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _pool = new WorkerPool(threads);
        _runPart = RunPart;
        _runTilePart = RunTilePart;
    }

    /// <summary>Number of threads a large multiplication is split across.</summary>
    public int Threads => _pool.Parallelism;

    /// <summary>
    /// The worker team this multiplier splits its work across, for other parallel jobs between multiplications
    /// (attention heads); never use it from inside <see cref="Multiply"/>.
    /// </summary>
    public WorkerPool Workers => _pool;

    /// <summary>
    /// Y = X W^T for <paramref name="tokens"/> activation rows: <paramref name="x"/> is [tokens, w.Columns] row-major
    /// and <paramref name="y"/> is [tokens, w.Rows] row-major; both lengths must match exactly.
    /// </summary>
    public void Multiply(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int tokens)
    {
        Check(w, x, y, tokens);
        if (TileKernels.For(w.Type) is not null)
        {
            fixed (float* px = x, py = y)
            {
                _jobs[0] = new MatrixJob { W = w, Y = py };
                TileMultiply(px, tokens, 1);
            }
            return;
        }

        int rowBytes = PrepareActivations(w.Type, x, tokens, w.Columns);
        fixed (float* py = y)
        {
            _w = w;
            _activations = _scratchPointer;
            _activationRowBytes = rowBytes;
            _y = py;
            _tokens = tokens;
            _kernel = VecDot.MatMulKernel(w.Type);
            try
            {
                if (_pool.Parallelism == 1 || (long)w.Rows * w.Columns * tokens < ParallelThreshold || w.Rows < _pool.Parallelism)
                    Rows(0, w.Rows);
                else
                    _pool.Run(_runPart);
            }
            finally
            {
                _y = null;
                _activations = null;
            }
        }
    }

    /// <summary>
    /// Y1 = X W1^T and Y2 = X W2^T for the same <paramref name="x"/> (the feed-forward gate and up projections): the
    /// activations are prepared once when both types share an activation format, and both matrices' rows are split
    /// across the threads in one job. Results equal two single products.
    /// </summary>
    public void Multiply(in WeightMatrix w1, Span<float> y1, in WeightMatrix w2, Span<float> y2, ReadOnlySpan<float> x, int tokens)
    {
        if (TileKernels.For(w1.Type) is null || TileKernels.For(w2.Type) is null)
        {
            Multiply(w1, x, y1, tokens);
            Multiply(w2, x, y2, tokens);
            return;
        }
        Check(w1, x, y1, tokens);
        Check(w2, x, y2, tokens);
        fixed (float* px = x, p1 = y1, p2 = y2)
        {
            _jobs[0] = new MatrixJob { W = w1, Y = p1 };
            _jobs[1] = new MatrixJob { W = w2, Y = p2 };
            TileMultiply(px, tokens, 2);
        }
    }

    /// <summary>
    /// Three products of the same <paramref name="x"/> in one job (the attention query, key and value projections);
    /// results equal three single products.
    /// </summary>
    public void Multiply(in WeightMatrix w1, Span<float> y1, in WeightMatrix w2, Span<float> y2, in WeightMatrix w3, Span<float> y3,
        ReadOnlySpan<float> x, int tokens)
    {
        if (TileKernels.For(w1.Type) is null || TileKernels.For(w2.Type) is null || TileKernels.For(w3.Type) is null)
        {
            Multiply(w1, x, y1, tokens);
            Multiply(w2, x, y2, tokens);
            Multiply(w3, x, y3, tokens);
            return;
        }
        Check(w1, x, y1, tokens);
        Check(w2, x, y2, tokens);
        Check(w3, x, y3, tokens);
        fixed (float* px = x, p1 = y1, p2 = y2, p3 = y3)
        {
            _jobs[0] = new MatrixJob { W = w1, Y = p1 };
            _jobs[1] = new MatrixJob { W = w2, Y = p2 };
            _jobs[2] = new MatrixJob { W = w3, Y = p3 };
            TileMultiply(px, tokens, 3);
        }
    }

    private static void Check(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int tokens)
    {
        if (w.Data == null)
            throw new ArgumentException("The weight matrix is empty (default).", nameof(w));
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        if (x.Length != (long)tokens * w.Columns)
            throw new ArgumentException($"X must hold {tokens} x {w.Columns} values, got {x.Length}.", nameof(x));
        if (y.Length != (long)tokens * w.Rows)
            throw new ArgumentException($"Y must hold {tokens} x {w.Rows} values, got {y.Length}.", nameof(y));
    }

    /// <summary>
    /// Grows the scratch now for products with up to <paramref name="tokens"/> rows of <paramref name="columns"/>
    /// activations against <paramref name="weightType"/> weights, so that such products never allocate later.
    /// </summary>
    public void Reserve(GgmlType weightType, int columns, int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        var tiles = TileKernels.For(weightType);
        if (tiles is not null)
        {
            EnsureScratch((long)tiles.PreparedRowBytes(columns) * tokens + TileKernels.RowAlignment);
            if (tokens > 1 && (tiles.Panel != null || tiles.HasPanel16))
                EnsurePanels(tiles.PanelBytes(columns));
            return;
        }
        bool asFloat = weightType is GgmlType.F16 or GgmlType.BF16;
        int rowBytes = asFloat ? columns * sizeof(float) : VecDot.ActivationRowBytes(weightType, columns);
        EnsureScratch((long)rowBytes * tokens + (asFloat ? columns * sizeof(ushort) : 0));
    }

    /// <summary>Converts each token's activations once; returns the prepared row stride in bytes.</summary>
    private int PrepareActivations(GgmlType type, ReadOnlySpan<float> x, int tokens, int columns)
    {
        // F16/BF16 activations are kept as floats rounded through the 16-bit format (see VecDot.MatMulKernel),
        // with room behind them for the 16-bit staging copy.
        bool asFloat = type is GgmlType.F16 or GgmlType.BF16;
        int rowBytes = asFloat ? columns * sizeof(float) : VecDot.ActivationRowBytes(type, columns);
        long needed = (long)rowBytes * tokens + (asFloat ? columns * sizeof(ushort) : 0);
        EnsureScratch(needed);
        var scratch = new Span<byte>(_scratchPointer, checked((int)needed));
        for (int t = 0; t < tokens; t++)
        {
            var row = x.Slice(t * columns, columns);
            var dst = scratch.Slice(t * rowBytes, rowBytes);
            if (type == GgmlType.F16)
            {
                var staging = MemoryMarshal.Cast<byte, Half>(scratch.Slice(tokens * rowBytes, columns * sizeof(ushort)));
                TensorPrimitives.ConvertToHalf(row, staging);
                TensorPrimitives.ConvertToSingle(staging, MemoryMarshal.Cast<byte, float>(dst));
            }
            else if (type == GgmlType.BF16)
            {
                var f = MemoryMarshal.Cast<byte, float>(dst);
                for (int i = 0; i < columns; i++)
                    f[i] = HalfConvert.FromBf16(HalfConvert.ToBf16(row[i]));
            }
            else
            {
                VecDot.QuantizeActivations(type, row, dst);
            }
        }
        return rowBytes;
    }

    private void EnsureScratch(long bytes)
    {
        if (bytes <= _scratch.Length)
            return;
        if (bytes > Array.MaxLength)
            throw new ArgumentException($"Activations need {bytes} bytes of scratch, more than one buffer can hold.");
        long size = Math.Max(bytes, Math.Min(2L * _scratch.Length, Array.MaxLength)); // grow geometrically
        _scratch = GC.AllocateUninitializedArray<byte>((int)size, pinned: true);
        _scratchPointer = (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(_scratch, 0);
    }

    private void RunPart(int part)
    {
        int parts = _pool.Parallelism;
        int rows = _w.Rows;
        Rows((int)((long)rows * part / parts), (int)((long)rows * (part + 1) / parts));
    }

    /// <summary>Outputs for weight rows [first, end) and every token. Rows outer, so a weight row is read once from memory.</summary>
    private void Rows(int first, int end)
    {
        var kernel = _kernel;
        byte* w = _w.Data;
        long rowBytes = _w.RowStride;
        int columns = _w.Columns, outputs = _w.Rows, tokens = _tokens, actBytes = _activationRowBytes;
        for (int r = first; r < end; r++)
        {
            byte* row = w + r * rowBytes;
            for (int t = 0; t < tokens; t++)
                _y[(long)t * outputs + r] = kernel(row, _activations + (long)t * actBytes, columns);
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose() => _pool.Dispose();
}
