using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;
using EdgeLm.Numerics.Threading;

namespace EdgeLm.Numerics.Tests;

public class WorkerPoolTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryPartRunsExactlyOncePerJob(int parallelism)
    {
        using var pool = new WorkerPool(parallelism);
        var counts = new int[parallelism];
        for (int job = 0; job < 200; job++)
            pool.Run(part => Interlocked.Increment(ref counts[part]));
        Assert.All(counts, c => Assert.Equal(200, c));
    }

    [Fact]
    public void WorkerExceptionsReachTheCallerAndThePoolKeepsWorking()
    {
        using var pool = new WorkerPool(3);
        var error = Assert.Throws<AggregateException>(() => pool.Run(part =>
        {
            if (part == 2)
                throw new InvalidOperationException("part 2 failed");
        }));
        Assert.IsType<InvalidOperationException>(error.InnerException);
        int ran = 0;
        pool.Run(_ => Interlocked.Increment(ref ran));
        Assert.Equal(3, ran);
    }

    [Fact]
    public void RunAfterDisposeThrows()
    {
        var pool = new WorkerPool(2);
        pool.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pool.Run(_ => { }));
    }

    [Fact]
    public void MatMulAllocatesNothingOnceWarm()
    {
        const int rows = 128, columns = 1024;
        var m = GC.AllocateArray<byte>((int)GgmlTypeInfo.RowBytes(GgmlType.Q4_K, columns) * rows, pinned: true);
        for (int r = 0; r < rows; r++)
            TestData.WeightRow(GgmlType.Q4_K, columns, r).CopyTo(m, r * (int)GgmlTypeInfo.RowBytes(GgmlType.Q4_K, columns));
        var w = WeightMatrix.FromPinned(Marshal.UnsafeAddrOfPinnedArrayElement(m, 0), GgmlType.Q4_K, rows, columns);
        var x = TestData.Gaussian(2 * columns, 1);
        var y = new float[2 * rows];
        using var matmul = new MatMul(2);
        for (int i = 0; i < 5; i++)
            matmul.Multiply(w, x, y, 2); // warm: scratch sized, kernels compiled
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
            matmul.Multiply(w, x, y, 2);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        GC.KeepAlive(m);
    }

    /// <summary>
    /// Jobs far apart (workers and caller both give up spinning and block on their events) allocate nothing on any
    /// thread, not even the first time a worker blocks: the events' lazily created lock objects must exist already.
    /// </summary>
    [Fact]
    public void JobsAfterIdleGapsAllocateNothingOnAnyThread()
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
