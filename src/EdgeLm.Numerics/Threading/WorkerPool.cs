namespace EdgeLm.Numerics.Threading;

/// <summary>
/// A fixed team of threads that runs one job split into <see cref="Parallelism"/> parts: part 0 on the calling
/// thread, parts 1.. on dedicated background workers. <see cref="Run"/> allocates nothing, so a matmul can use it
/// on every token. One job at a time: <see cref="Run"/> is not reentrant and not thread-safe.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _go;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    private Action<int>? _job;
    private int _pending;
    private Exception? _failure;
    private volatile bool _disposed;

    /// <summary>Creates a pool that runs jobs in <paramref name="parallelism"/> parts (1 = everything on the caller).</summary>
    public WorkerPool(int parallelism)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        Parallelism = parallelism;
        _threads = new Thread[parallelism - 1];
        _go = new ManualResetEventSlim[parallelism - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _go[i] = new ManualResetEventSlim(false, spinCount: 2000);
            int part = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(part)) { IsBackground = true, Name = $"EdgeLm worker {part}" };
            _threads[i].Start();
        }
    }

    /// <summary>Number of parts every job is split into.</summary>
    public int Parallelism { get; }

    /// <summary>
    /// Runs <paramref name="job"/>(part) for part = 0 .. Parallelism-1 and returns when all are done. The first
    /// exception a part throws is rethrown here (wrapped in an <see cref="AggregateException"/>).
    /// </summary>
    public void Run(Action<int> job)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_threads.Length == 0)
        {
            job(0);
            return;
        }
        _job = job;
        _failure = null;
        _pending = _threads.Length;
        _done.Reset();
        foreach (var go in _go)
            go.Set();
        try
        {
            job(0);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
        }
        _done.Wait();
        _job = null;
        if (_failure is { } failure)
            throw new AggregateException("A worker part failed.", failure);
    }

    private void WorkerLoop(int part)
    {
        var go = _go[part - 1];
        while (true)
        {
            go.Wait();
            go.Reset();
            if (_disposed)
                return;
            try
            {
                _job!(part);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            if (Interlocked.Decrement(ref _pending) == 0)
                _done.Set();
        }
    }

    /// <summary>
    /// Managed bytes the worker threads (not the caller) have allocated since they started, each read on its own
    /// thread with <see cref="GC.GetAllocatedBytesForCurrentThread"/>: lets tests prove a hot loop allocates nothing
    /// anywhere. Not for use while another <see cref="Run"/> is in flight.
    /// </summary>
    public long WorkerAllocatedBytes()
    {
        _readAllocations ??= part =>
        {
            if (part > 0)
                _allocations![part] = GC.GetAllocatedBytesForCurrentThread();
        };
        _allocations ??= new long[Parallelism];
        Run(_readAllocations);
        long sum = 0;
        for (int i = 1; i < _allocations.Length; i++)
            sum += _allocations[i];
        return sum;
    }

    private Action<int>? _readAllocations;
    private long[]? _allocations;

    /// <summary>Stops the workers (they finish their current part first).</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        foreach (var go in _go)
            go.Set();
        foreach (var t in _threads)
            t.Join();
        foreach (var go in _go)
            go.Dispose();
        _done.Dispose();
    }
}
