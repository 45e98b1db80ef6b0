namespace EdgeLm.Numerics.Threading;

/// <summary>
/// A fixed team of threads that runs one job split into <see cref="Parallelism"/> parts: part 0 on the calling
/// thread, parts 1.. on dedicated background workers. <see cref="Run"/> allocates nothing, so a matmul can use it
/// on every token. One job at a time: <see cref="Run"/> is not reentrant and not thread-safe.
/// </summary>
/// <remarks>
/// Hand-off is built for jobs a few microseconds apart (a decode step is ~100 of them): a new job is published by
/// bumping a generation counter that idle workers watch, spinning briefly (about <see cref="SpinIterations"/> pause
/// rounds, yielding now and then) before they block on their own event; the caller likewise spins on the count of
/// unfinished parts before blocking. A worker announces that it is about to block and re-checks the counter first,
/// so no wake-up is lost; the caller signals only workers that said they block, so when all are spinning a job
/// starts without a system call. Jobs should split their work dynamically (a shared counter) so a worker that the
/// OS has descheduled costs little.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    /// <summary>Rounds of <see cref="SpinWait"/> before a thread blocks (a few tens of microseconds).</summary>
    public const int SpinIterations = 200;

    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _wake;
    private readonly int[] _blocking;
    private readonly ManualResetEventSlim _done = new(false, spinCount: 0);
    private int _callerBlocking;
    private Action<int>? _job;
    private int _generation;
    private int _pending;
    private Exception? _failure;
    private volatile bool _disposed;

    /// <summary>Creates a pool that runs jobs in <paramref name="parallelism"/> parts (1 = everything on the caller).</summary>
    public WorkerPool(int parallelism)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parallelism, 1);
        Parallelism = parallelism;
        _threads = new Thread[parallelism - 1];
        _wake = new ManualResetEventSlim[parallelism - 1];
        _blocking = new int[parallelism - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new ManualResetEventSlim(false, spinCount: 0);
            _wake[i].Wait(1); // creates the event's lock object now, not on the worker (see the note after this loop)
            int part = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(part)) { IsBackground = true, Name = $"EdgeLm worker {part}" };
            _threads[i].Start();
        }
        if (_threads.Length > 0)
        {
            // ManualResetEventSlim creates its lock object (24 bytes) the first time a Wait really blocks: make that
            // happen now (a 1 ms timed wait, here) for the caller's event as for every worker's (above), rather than in
            // whichever job first finds the workers slow or first leaves a worker idle long enough to block.
            _done.Wait(1);
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
        _done.Reset();
        Volatile.Write(ref _pending, _threads.Length);
        Interlocked.Increment(ref _generation); // publishes the job (full fence)
        for (int i = 0; i < _wake.Length; i++)
        {
            if (Volatile.Read(ref _blocking[i]) != 0)
                _wake[i].Set();
        }
        try
        {
            job(0);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, e, null);
        }
        WaitForWorkers();
        _job = null;
        if (_failure is { } failure)
            throw new AggregateException("A worker part failed.", failure);
    }

    private void WaitForWorkers()
    {
        var spin = new SpinWait();
        for (int i = 0; i < SpinIterations; i++)
        {
            if (Volatile.Read(ref _pending) == 0)
                return;
            spin.SpinOnce(sleep1Threshold: -1);
        }
        Volatile.Write(ref _callerBlocking, 1);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _pending) != 0)
            _done.Wait();
        Volatile.Write(ref _callerBlocking, 0);
    }

    private void WorkerLoop(int part)
    {
        var wake = _wake[part - 1];
        int seen = 0;
        while (true)
        {
            seen = WaitForJob(part, seen, wake);
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
            if (Interlocked.Decrement(ref _pending) == 0 && Volatile.Read(ref _callerBlocking) != 0)
                _done.Set();
        }
    }

    /// <summary>Waits until the generation moves past <paramref name="seen"/> (or disposal); returns the new generation.</summary>
    private int WaitForJob(int part, int seen, ManualResetEventSlim wake)
    {
        var spin = new SpinWait();
        for (int i = 0; i < SpinIterations; i++)
        {
            int now = Volatile.Read(ref _generation);
            if (now != seen || _disposed)
                return now;
            spin.SpinOnce(sleep1Threshold: -1);
        }
        while (true)
        {
            wake.Reset();
            Volatile.Write(ref _blocking[part - 1], 1);
            Interlocked.MemoryBarrier();
            int now = Volatile.Read(ref _generation);
            if (now != seen || _disposed)
            {
                Volatile.Write(ref _blocking[part - 1], 0);
                return now;
            }
            wake.Wait();
            Volatile.Write(ref _blocking[part - 1], 0);
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
        Interlocked.Increment(ref _generation);
        foreach (var wake in _wake)
            wake.Set();
        foreach (var t in _threads)
            t.Join();
        foreach (var wake in _wake)
            wake.Dispose();
        _done.Dispose();
    }
}
