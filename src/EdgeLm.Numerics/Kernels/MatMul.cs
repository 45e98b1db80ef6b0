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
public sealed unsafe class MatMul : IDisposable
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
    private TileKernels? _tiles;
    private int _chunkRows;
    private int _chunks;
    private int _nextChunk;

    /// <summary>Creates a multiplier that splits work across <paramref name="threads"/> threads (the caller's included).</summary>
    public MatMul(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _pool = new WorkerPool(threads);
        _runPart = RunPart;
        _runTilePart = RunTilePart;
    }

    private readonly Action<int> _runTilePart;

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
        if (w.Data == null)
            throw new ArgumentException("The weight matrix is empty (default).", nameof(w));
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        if (x.Length != (long)tokens * w.Columns)
            throw new ArgumentException($"X must hold {tokens} x {w.Columns} values, got {x.Length}.", nameof(x));
        if (y.Length != (long)tokens * w.Rows)
            throw new ArgumentException($"Y must hold {tokens} x {w.Rows} values, got {y.Length}.", nameof(y));

        var tiles = TileKernels.For(w.Type);
        if (tiles is not null)
        {
            TileMultiply(tiles, w, x, y, tokens);
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
    /// The tile-kernel path: each token's activations prepared once, then rows handed out in chunks (a shared counter,
    /// so a thread slowed by other load takes fewer) and every chunk done for all tokens, four at a time, while its
    /// weights are in cache. Which thread computes a row does not change its result.
    /// </summary>
    private void TileMultiply(TileKernels tiles, in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int tokens)
    {
        int columns = w.Columns;
        int rowBytes = tiles.PreparedRowBytes(columns);
        EnsureScratch((long)rowBytes * tokens + TileKernels.RowAlignment);
        byte* prepared = (byte*)(((nint)_scratchPointer + TileKernels.RowAlignment - 1) & ~(nint)(TileKernels.RowAlignment - 1));
        fixed (float* px = x, py = y)
        {
            for (int t = 0; t < tokens; t++)
                tiles.Prepare(px + (long)t * columns, columns, prepared + (long)t * rowBytes);
            _w = w;
            _tiles = tiles;
            _activations = prepared;
            _activationRowBytes = rowBytes;
            _y = py;
            _tokens = tokens;
            try
            {
                int parts = _pool.Parallelism;
                if (parts == 1 || (long)w.Rows * columns * tokens < ParallelThreshold || w.Rows < 2 * parts)
                {
                    TileRows(0, w.Rows);
                }
                else
                {
                    // About eight chunks per thread, an even number of rows each (decode takes rows in pairs).
                    int chunk = Math.Max(2, (w.Rows / (8 * parts) + 1) & ~1);
                    _chunkRows = chunk;
                    _chunks = (w.Rows + chunk - 1) / chunk;
                    _nextChunk = 0;
                    _pool.Run(_runTilePart);
                }
            }
            finally
            {
                _y = null;
                _activations = null;
                _tiles = null;
            }
        }
    }

    private void RunTilePart(int part)
    {
        int rows = _w.Rows, chunk = _chunkRows, chunks = _chunks;
        while (true)
        {
            int c = Interlocked.Increment(ref _nextChunk) - 1;
            if (c >= chunks)
                return;
            TileRows(c * chunk, Math.Min(rows, (c + 1) * chunk));
        }
    }

    /// <summary>Tile-kernel outputs for weight rows [first, end) and every token.</summary>
    private void TileRows(int first, int end)
    {
        var tiles = _tiles!;
        byte* w = _w.Data;
        long rowBytes = _w.RowStride;
        int columns = _w.Columns, outputs = _w.Rows, tokens = _tokens;
        long actBytes = _activationRowBytes;
        byte* act = _activations;
        float* y = _y;
        if (tokens == 1)
        {
            var pair = tiles.Tile2x1;
            int r = first;
            for (; r + 2 <= end; r += 2)
                pair(w + r * rowBytes, rowBytes, act, actBytes, y + r, outputs, columns);
            if (r < end)
                tiles.Tile1x1(w + r * rowBytes, rowBytes, act, actBytes, y + r, outputs, columns);
            return;
        }
        for (int t = 0; t < tokens; t += 4)
        {
            int n = Math.Min(4, tokens - t);
            var kernel = tiles.ForTokens(n);
            byte* a = act + t * actBytes;
            float* yt = y + (long)t * outputs;
            for (int r = first; r < end; r++)
                kernel(w + r * rowBytes, rowBytes, a, actBytes, yt + r, outputs, columns);
        }
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
