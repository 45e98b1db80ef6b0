using System.Diagnostics;

namespace EdgeLm.Benchmarks;

/// <summary>What every measurement uses: threads and token counts, identical for both engines.</summary>
internal sealed record ProtocolSettings(int Threads, int PromptTokens, int GeneratedTokens, int FirstTokenPromptTokens)
{
    /// <summary>Positions every test needs, rounded up to a multiple of 256 (llama.cpp pads its context so).</summary>
    public int ContextLength => (Math.Max(Math.Max(PromptTokens, FirstTokenPromptTokens), 1 + GeneratedTokens) + 255) / 256 * 256;
}

/// <summary>
/// One measured round of one engine in one process. OtherCoresDuring: cores other processes used, on average, during
/// the measured part (warm-up excluded); OtherCoresBefore: the same in the second before the round started.
/// </summary>
internal sealed record RoundResult(
    string Engine,
    string Model,
    double PromptTokensPerSecond,
    double TokensPerSecond,
    double TimeToFirstTokenSeconds,
    long PeakRssBytes,
    long RssBeforeLoadBytes,
    double LoadSeconds,
    long? KvCacheBytes,
    string Settings,
    double? OtherCoresDuring,
    double? OtherCoresBefore = null);

/// <summary>
/// The measuring protocol, the same for both engines (and the same as <c>edgelm bench</c>'s):
/// the token ids are BOS then seeded pseudo-random ids (no tokenizer involved); one untimed warm-up round runs every
/// test once (for .NET's tiered JIT, and llama.cpp's first-use allocations); then, each on an emptied KV cache:
/// pp = PromptTokens evaluated in one call, logits of the last only;
/// tg = GeneratedTokens evaluated one at a time after a 1-token prompt (BOS), each the argmax of the previous logits;
/// ttft = a FirstTokenPromptTokens-long prompt evaluated and its argmax taken (model load excluded, reported apart).
/// </summary>
internal static class Protocol
{
    /// <summary>Loads <paramref name="model"/> in <paramref name="engine"/> and measures one round after a warm-up.</summary>
    public static RoundResult MeasureRound(string engine, string model, ProtocolSettings s)
    {
        long rssBefore = ProcessMemory.ResidentBytes();
        long start = Stopwatch.GetTimestamp();
        using var e = Engine.Load(engine, model, s);
        double loadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        int[] prompt = Tokens(e.StartId, e.VocabularySize, s.PromptTokens, seed: 1);
        int[] firstTokenPrompt = Tokens(e.StartId, e.VocabularySize, s.FirstTokenPromptTokens, seed: 2);

        Prompt(e, prompt);
        Generation(e, Math.Min(s.GeneratedTokens, 8));
        FirstToken(e, firstTokenPrompt);

        var machineBefore = MachineLoad.Read();
        double pp = s.PromptTokens / Prompt(e, prompt);
        double tg = s.GeneratedTokens / Generation(e, s.GeneratedTokens);
        double ttft = FirstToken(e, firstTokenPrompt);
        double? others = MachineLoad.OtherCores(machineBefore, MachineLoad.Read());
        return new RoundResult(engine, model, pp, tg, ttft, ProcessMemory.PeakResidentBytes(), rssBefore, loadSeconds, e.KvCacheBytes, e.Settings, others);
    }

    /// <summary>
    /// BOS then <paramref name="count"/> - 1 ids in [0, <paramref name="vocabulary"/>) from a SplitMix64 sequence: the
    /// same ids for both engines and on every machine (the same generator as <c>edgelm bench</c>).
    /// </summary>
    public static int[] Tokens(int start, int vocabulary, int count, ulong seed)
    {
        var ids = new int[count];
        ids[0] = start;
        ulong state = seed;
        for (int i = 1; i < count; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            ids[i] = (int)(z % (ulong)vocabulary);
        }
        return ids;
    }

    private static double Prompt(IBenchEngine e, int[] prompt)
    {
        e.Reset();
        long start = Stopwatch.GetTimestamp();
        e.Evaluate(prompt);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double Generation(IBenchEngine e, int count)
    {
        e.Reset();
        int next = e.Evaluate([e.StartId]);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
            next = e.Evaluate([next]);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double FirstToken(IBenchEngine e, int[] prompt)
    {
        e.Reset();
        long start = Stopwatch.GetTimestamp();
        e.Evaluate(prompt);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}

/// <summary>This process's resident memory, from /proc/self/status (Linux), else the working set.</summary>
internal static class ProcessMemory
{
    /// <summary>Peak resident set (VmHWM): everything mapped and touched, file-backed pages included.</summary>
    public static long PeakResidentBytes() => Read("VmHWM:") ?? Current().PeakWorkingSet64;

    /// <summary>Resident set now (VmRSS).</summary>
    public static long ResidentBytes() => Read("VmRSS:") ?? Current().WorkingSet64;

    private static Process Current()
    {
        var p = Process.GetCurrentProcess();
        p.Refresh();
        return p;
    }

    private static long? Read(string key)
    {
        const string Status = "/proc/self/status";
        if (!File.Exists(Status))
            return null;
        foreach (string line in File.ReadLines(Status))
        {
            // "VmHWM:    123456 kB"
            if (!line.StartsWith(key, StringComparison.Ordinal))
                continue;
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length >= 2 && long.TryParse(parts[1], out long kib) ? kib * 1024 : null;
        }
        return null;
    }
}
