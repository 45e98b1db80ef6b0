using System.Diagnostics;

namespace EdgeLm.Benchmarks;

/// <summary>
/// How busy the machine is with other work, from /proc/stat (Linux; null elsewhere). On a shared machine a round
/// measured while other processes hold the cores says little, so the benchmark waits for a quiet moment before each
/// round and records how many cores others used during it.
/// </summary>
internal static class MachineLoad
{
    // /proc/stat counts in USER_HZ, 100 per second on every Linux architecture .NET runs on.
    private const double TicksPerSecond = 100;

    /// <summary>A reading of the machine's CPU time counters and this process's own CPU time.</summary>
    public readonly record struct Sample(long BusyTicks, long TotalTicks, TimeSpan OwnCpu, long Timestamp);

    public static Sample? Read()
    {
        const string Stat = "/proc/stat";
        if (!File.Exists(Stat))
            return null;
        string? line = File.ReadLines(Stat).FirstOrDefault();
        if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
            return null;
        // cpu user nice system idle iowait irq softirq steal guest guest_nice: idle and iowait are not busy;
        // guest times are already inside user and nice.
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
        long total = fields.Sum();
        long idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
        using var self = Process.GetCurrentProcess();
        return new Sample(total - idle, total, self.TotalProcessorTime, Stopwatch.GetTimestamp());
    }

    /// <summary>Cores used on average by processes other than this one between two samples.</summary>
    public static double? OtherCores(Sample? before, Sample? after)
    {
        if (before is not { } a || after is not { } b)
            return null;
        double wall = Stopwatch.GetElapsedTime(a.Timestamp, b.Timestamp).TotalSeconds;
        if (wall <= 0)
            return null;
        double busy = (b.BusyTicks - a.BusyTicks) / TicksPerSecond;
        double own = (b.OwnCpu - a.OwnCpu).TotalSeconds;
        // Tick granularity (10 ms) makes short windows rough: keep the figure within what the machine has.
        return Math.Clamp((busy - own) / wall, 0, Environment.ProcessorCount);
    }

    /// <summary>
    /// Waits, up to <paramref name="maxWait"/>, for a one-second window in which other processes use less than
    /// <paramref name="quietCores"/> cores; returns the cores they used in the last window (null without /proc/stat).
    /// </summary>
    public static double? WaitForQuiet(TimeSpan maxWait, double quietCores)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var a = Read();
            Thread.Sleep(1000);
            double? others = OtherCores(a, Read());
            if (others is null || others < quietCores || Stopwatch.GetTimestamp() >= deadline)
                return others;
        }
    }
}
