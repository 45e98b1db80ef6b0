using EdgeLm.Numerics.Threading;

namespace EdgeLm.Numerics.Tests.Threading;

public class WorkerPoolTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void Every_job_runs_each_part_exactly_once_on_its_own_thread(int parallelism)
    {
        using var pool = new WorkerPool(parallelism);
        var runs = new int[parallelism];
        var threads = new int[parallelism];
        for (int job = 0; job < 200; job++)
        {
            pool.Run(part =>
            {
                Interlocked.Increment(ref runs[part]);
                threads[part] = Environment.CurrentManagedThreadId;
            });
            Assert.All(runs, count => Assert.Equal(job + 1, count));
            // Part 0 runs on the caller; parts 1.. each on a thread of their own.
            Assert.Equal(Environment.CurrentManagedThreadId, threads[0]);
            Assert.Equal(parallelism, threads.Distinct().Count());
        }
    }

    [Fact]
    public void A_failing_part_is_rethrown_to_the_caller_and_the_pool_keeps_working()
    {
        using var pool = new WorkerPool(3);
        var e = Assert.Throws<AggregateException>(() => pool.Run(part =>
        {
            if (part == 2)
                throw new InvalidOperationException("part 2 failed");
        }));
        Assert.Equal("part 2 failed", Assert.IsType<InvalidOperationException>(e.InnerException).Message);

        int sum = 0;
        pool.Run(part => Interlocked.Add(ref sum, part + 1));
        Assert.Equal(1 + 2 + 3, sum);
    }

    [Fact]
    public void A_disposed_pool_refuses_new_jobs()
    {
        var pool = new WorkerPool(2);
        pool.Dispose();
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Run(_ => { }));
    }

    /// <summary>
    /// Jobs far apart (workers and caller both give up spinning and block on their events) allocate nothing on any
    /// thread, not even the first time a worker blocks: the events' lazily created lock objects must exist already.
    /// </summary>
    [Fact]
    public void Jobs_after_idle_gaps_allocate_nothing_on_any_thread()
    {
        using var pool = new WorkerPool(3);
        int total = 0;
        Action<int> job = part => Interlocked.Add(ref total, part);
        Action<int> slowWorkers = part =>
        {
            if (part > 0)
                Thread.Sleep(30);
        };
        pool.Run(job); // JIT and first-call work
        long workers = pool.WorkerAllocatedBytes();
        long caller = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            Thread.Sleep(30); // far longer than the spin window: the workers block on their events
            pool.Run(job);
        }
        // A job slow enough that the caller blocks waiting for the workers.
        pool.Run(slowWorkers);
        long callerAllocated = GC.GetAllocatedBytesForCurrentThread() - caller;
        long workersAllocated = pool.WorkerAllocatedBytes() - workers;
        Assert.Equal(6 * (0 + 1 + 2), total);
        Assert.Equal(0, callerAllocated);
        Assert.Equal(0, workersAllocated);
    }
}
