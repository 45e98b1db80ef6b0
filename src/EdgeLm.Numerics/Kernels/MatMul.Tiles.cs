using System.Runtime.InteropServices;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// The tile-kernel path of <see cref="MatMul"/>: up to three matrices that share one input, in one parallel job.
/// Each token's activations are prepared once per distinct activation layout; then every matrix's rows are cut into
/// chunks (a multiple of eight rows, of sixteen for a sixteen-row panel) and the threads take chunks from one shared
/// counter, so a thread slowed by other load takes fewer. A chunk is done for all tokens while its weights are in
/// cache: one token with the eight-row decode kernel, several with the sixteen-row panel (AVX-512) and then the
/// eight-row panel (or the one-row tiles where a kernel set has no panel).
/// Which thread computes a row never changes its result.
/// </summary>
public sealed unsafe partial class MatMul
{
    /// <summary>One matrix of the job in flight.</summary>
    private struct MatrixJob
    {
        public WeightMatrix W;
        public float* Y;
        public TileKernels Tiles;
        public byte* Activations;
        public long ActivationBytes;
        public int FirstChunk;
        public int ChunkRows;
    }

    private readonly MatrixJob[] _jobs = new MatrixJob[3];
    private readonly Action<int> _runTilePart;
    private int _jobCount;
    private int _totalChunks;
    private int _nextChunk;
    private byte*[] _panels = [];
    private byte[]?[] _panelArrays = [];
    private int _panelBytes;

    /// <summary>Runs the first <paramref name="count"/> entries of <see cref="_jobs"/> (W and Y set) against <paramref name="x"/>.</summary>
    private void TileMultiply(float* x, int tokens, int count)
    {
        int columns = _jobs[0].W.Columns;
        long scratch = TileKernels.RowAlignment;
        int panelBytes = 0;
        for (int i = 0; i < count; i++)
        {
            var tiles = TileKernels.For(_jobs[i].W.Type)!;
            _jobs[i].Tiles = tiles;
            scratch += (long)tiles.PreparedRowBytes(columns) * tokens;
            if (tokens > 1 && (tiles.Panel != null || tiles.HasPanel16))
                panelBytes = Math.Max(panelBytes, tiles.PanelBytes(columns));
        }
        EnsureScratch(scratch);
        if (panelBytes > 0)
            EnsurePanels(panelBytes);

        // Prepare each distinct activation layout once (one type, or types whose kernels share a preparation, as the k-quants).
        byte* next = (byte*)(((nint)_scratchPointer + TileKernels.RowAlignment - 1) & ~(nint)(TileKernels.RowAlignment - 1));
        for (int i = 0; i < count; i++)
        {
            var tiles = _jobs[i].Tiles;
            int shared = -1;
            for (int j = 0; j < i; j++)
            {
                if (_jobs[j].Tiles.PreparedLayout == tiles.PreparedLayout)
                    shared = j;
            }
            int rowBytes = tiles.PreparedRowBytes(columns);
            _jobs[i].ActivationBytes = rowBytes;
            if (shared >= 0)
            {
                _jobs[i].Activations = _jobs[shared].Activations;
                continue;
            }
            _jobs[i].Activations = next;
            for (int t = 0; t < tokens; t++)
                tiles.Prepare(x + (long)t * columns, columns, next + (long)t * rowBytes);
            next += (long)rowBytes * tokens;
        }

        _tokens = tokens;
        _jobCount = count;
        int parts = _pool.Parallelism;
        long work = 0;
        for (int i = 0; i < count; i++)
            work += (long)_jobs[i].W.Rows * columns * tokens;
        try
        {
            if (parts == 1 || work < ParallelThreshold)
            {
                for (int i = 0; i < count; i++)
                    TileRows(ref _jobs[i], 0, _jobs[i].W.Rows, 0);
                return;
            }
            // About eight chunks per thread per matrix, a multiple of eight rows each (the eight-row kernels), or of
            // sixteen where a sixteen-row panel will take them.
            int chunks = 0;
            for (int i = 0; i < count; i++)
            {
                int rows = _jobs[i].W.Rows;
                int unit = tokens > 1 && _jobs[i].Tiles.Panel16 != null ? 16 : 8;
                int chunk = Math.Max(unit, (rows / (8 * parts) + unit - 1) & -unit);
                _jobs[i].ChunkRows = chunk;
                _jobs[i].FirstChunk = chunks;
                chunks += (rows + chunk - 1) / chunk;
            }
            _totalChunks = chunks;
            _nextChunk = 0;
            _pool.Run(_runTilePart);
        }
        finally
        {
            for (int i = 0; i < count; i++)
                _jobs[i] = default;
        }
    }

    private void RunTilePart(int part)
    {
        int chunks = _totalChunks, count = _jobCount;
        while (true)
        {
            int c = Interlocked.Increment(ref _nextChunk) - 1;
            if (c >= chunks)
                return;
            int i = count - 1;
            while (_jobs[i].FirstChunk > c)
                i--;
            ref var job = ref _jobs[i];
            int first = (c - job.FirstChunk) * job.ChunkRows;
            TileRows(ref job, first, Math.Min(job.W.Rows, first + job.ChunkRows), part);
        }
    }

    /// <summary>Makes sure every thread has <paramref name="bytes"/> of pinned panel scratch.</summary>
    private void EnsurePanels(int bytes)
    {
        if (_panels.Length == _pool.Parallelism && bytes <= _panelBytes)
            return;
        int size = Math.Max(bytes, 2 * _panelBytes);
        _panels = new byte*[_pool.Parallelism];
        _panelArrays = new byte[]?[_pool.Parallelism];
        for (int i = 0; i < _panels.Length; i++)
        {
            var array = GC.AllocateUninitializedArray<byte>(size + TileKernels.RowAlignment, pinned: true);
            _panelArrays[i] = array;
            nint start = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
            _panels[i] = (byte*)((start + TileKernels.RowAlignment - 1) & ~(nint)(TileKernels.RowAlignment - 1));
        }
        _panelBytes = size;
    }

    /// <summary>Outputs of weight rows [first, end) of one matrix for every token, on worker <paramref name="part"/>.</summary>
    private void TileRows(ref MatrixJob job, int first, int end, int part)
    {
        var tiles = job.Tiles;
        byte* w = job.W.Data;
        long stride = job.W.RowStride;
        int columns = job.W.Columns, outputs = job.W.Rows, tokens = _tokens;
        long actBytes = job.ActivationBytes;
        byte* act = job.Activations;
        float* y = job.Y;
        int r = first;
        if (tokens == 1)
        {
            if (tiles.Rows8 != null)
            {
                for (; r + 8 <= end; r += 8)
                    tiles.Rows8(w + r * stride, stride, act, y + r, columns);
            }
            var pair = tiles.Tile2x1;
            for (; r + 2 <= end; r += 2)
                pair(w + r * stride, stride, act, actBytes, y + r, outputs, columns);
            if (r < end)
                tiles.Tile1x1(w + r * stride, stride, act, actBytes, y + r, outputs, columns);
            return;
        }
        if (tiles.Panel16 != null)
        {
            for (; r + 16 <= end; r += 16)
                tiles.Panel16(w + r * stride, stride, act, actBytes, y + r, outputs, columns, tokens, _panels[part]);
            if (r == end)
                return;
        }
        if (tiles.Panel != null)
        {
            byte* panel = _panels[part];
            for (; r + 8 <= end; r += 8)
                tiles.Panel(w + r * stride, stride, act, actBytes, y + r, outputs, columns, tokens, panel);
            if (r == end)
                return;
        }
        for (int t = 0; t < tokens; t += 4)
        {
            int n = Math.Min(4, tokens - t);
            var kernel = tiles.ForTokens(n);
            byte* a = act + t * actBytes;
            float* yt = y + (long)t * outputs;
            for (int row = r; row < end; row++)
                kernel(w + row * stride, stride, a, actBytes, yt + row, outputs, columns);
        }
    }
}
