using System.Globalization;
using System.Text.Json;

namespace EdgeLm.Benchmarks;

/// <summary>
/// EdgeLm against llama.cpp on the same GGUF files. For every requested shape and weight type the program makes (or
/// reuses) a synthesized model, then, for each repetition, measures every engine (EdgeLm, llama.cpp with its defaults,
/// llama.cpp with OpenMP's passive wait policy) one after the other, the order alternating between repetitions, at the
/// same thread count, each round in its own child process with its own warm-up (see <see cref="Protocol"/>). It prints
/// medians, min-max and EdgeLm / llama.cpp ratios (against the better llama.cpp run) as a Markdown table on standard
/// output, progress on standard error, and the same figures as JSON with --json.
/// </summary>
internal static class Program
{
    /// <summary>Other processes' load, in cores, under which the machine counts as quiet enough to measure.</summary>
    private const double QuietCores = 0.25;

    private static string Cores(double? cores) => cores is { } c ? $"{c:F2} cores" : "not measured";

    private static int Main(string[] args)
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            var a = BenchArguments.Parse(args);
            if (a.Help)
            {
                Console.Out.Write(BenchArguments.Usage);
                return 0;
            }
            return a.Child is not null ? ChildRunner.ChildMain(a) : Run(a, args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"edgelm-bench: {e.Message}");
            return 2;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"edgelm-bench: error: {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    private static int Run(BenchArguments a, string[] args)
    {
        var log = Console.Error;
        if (a.JsonPath is not null)
            CheckJsonFolder(a.JsonPath);
        string? root = RepositoryRoot();
        string vocabulary = a.VocabularyPath
            ?? (root is null ? throw new UsageException("no repository found above this program; pass --vocab FILE.")
                : Path.Combine(root, "tests", "fixtures", "vocab", "ggml-vocab-llama-spm.gguf"));
        string folder = a.ModelsFolder
            ?? (root is not null ? Path.Combine(root, ".cache", "bench-models") : Path.Combine(Path.GetTempPath(), "edgelm-bench-models"));
        var cache = new ModelCache(folder, vocabulary, a.Threads);
        var s = a.Protocol;

        string cpu = CpuName();
        string loadBefore = LoadAverage();
        log.WriteLine($"{cpu}, {Environment.ProcessorCount} cores; {s.Threads} threads, {a.Repetitions} repetitions, " +
                      $"pp{s.PromptTokens} tg{s.GeneratedTokens} ttft{s.FirstTokenPromptTokens}, context {s.ContextLength}; models in {folder}");

        var results = new List<ModelResult>();
        bool anyFailed = false;
        // The models: the given files as they are, or each synthesized shape at each type (made once into the cache).
        var models = a.Files.Count > 0
            ? a.Files.Select(f => (Name: Path.GetFileNameWithoutExtension(f), Description: $"the file {f}", Type: "file",
                                   Make: (Func<string>)(() => File.Exists(f) ? Path.GetFullPath(f) : throw new UsageException($"--files: '{f}' does not exist."))))
            : a.Sizes.Select(ModelShape.Find).SelectMany(shape => a.Types.Select(type =>
                (Name: shape.Name, Description: shape.ToString(), Type: type, Make: (Func<string>)(() => cache.Ensure(shape, type, log)))));
        foreach (var model in models)
        {
            var (name, type) = (model.Name, model.Type);
            string path = model.Make();
            if (a.PrepareOnly)
            {
                log.WriteLine($"ready: {path} ({new FileInfo(path).Length / 1048576.0:F0} MiB)");
                continue;
            }
            var rounds = a.Engines.ToDictionary(e => e, _ => new List<RoundResult>());
            var errors = new Dictionary<string, string>();
            for (int rep = 0; rep < a.Repetitions; rep++)
            {
                var order = rep % 2 == 0 ? a.Engines : a.Engines.Reverse().ToArray();
                foreach (string engine in order.Where(e => !errors.ContainsKey(e)))
                {
                    try
                    {
                        double? quiet = a.WaitIdleSeconds > 0
                            ? MachineLoad.WaitForQuiet(TimeSpan.FromSeconds(a.WaitIdleSeconds), QuietCores)
                            : null;
                        var r = ChildRunner.Run(engine, path, s) with { OtherCoresBefore = quiet };
                        rounds[engine].Add(r);
                        log.WriteLine($"  {name} {type} rep {rep + 1}/{a.Repetitions} {engine,-8}: pp {r.PromptTokensPerSecond,8:F1} tok/s, " +
                                      $"tg {r.TokensPerSecond,7:F1} tok/s, ttft {r.TimeToFirstTokenSeconds * 1000,7:F1} ms, peak RSS {r.PeakRssBytes / 1048576.0,7:F1} MiB, " +
                                      $"others' load {Cores(r.OtherCoresBefore)} before, {Cores(r.OtherCoresDuring)} during");
                    }
                    catch (ChildFailedException e)
                    {
                        errors[engine] = e.Message;
                        anyFailed = true;
                        log.WriteLine($"  {name} {type} {engine} FAILED: {e.Message}");
                    }
                }
            }
            var engines = a.Engines.ToDictionary(e => e, e => EngineResult.From(rounds[e], errors.GetValueOrDefault(e)));
            var peers = engines.Where(p => EngineNames.IsLlamaCpp(p.Key)).ToDictionary();
            results.Add(new ModelResult(name, model.Description, type.ToUpperInvariant(), Shown(path, root), new FileInfo(path).Length,
                                        engines, Ratios.Of(engines.GetValueOrDefault(EngineNames.EdgeLm), peers)));
        }

        if (a.PrepareOnly)
            return 0;
        var report = new BenchReport(
            DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture),
            cpu,
            $"{Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}",
            loadBefore,
            LoadAverage(),
            s.Threads, a.Repetitions, s.PromptTokens, s.GeneratedTokens, s.FirstTokenPromptTokens, s.ContextLength,
            "dotnet run -c Release --project bench/EdgeLm.Benchmarks -- " + string.Join(' ', args),
            "each repetition runs each engine in a fresh child process (order alternating): load, one warm-up round, " +
            "then pp (prompt in one call), tg (single tokens after BOS, greedy), ttft (short prompt to first token); " +
            "peak RSS is the child's VmHWM; before each round the parent waits (up to --wait-idle s) for other processes " +
            $"to use under {QuietCores} cores; other_cores_during is what they used during the measured part",
            results);
        Console.Out.Write(Table.Markdown(report));
        if (a.JsonPath is not null)
        {
            WriteReplacing(a.JsonPath, JsonSerializer.Serialize(report, Json.Indented));
            log.WriteLine($"wrote {a.JsonPath}");
        }
        return anyFailed ? 1 : 0;
    }

    /// <summary>Fails before any measuring when --json names a folder, or a file in a folder that does not exist.</summary>
    private static void CheckJsonFolder(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new UsageException($"--json: '{path}' is a folder, not a file name.");
        string folder = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(folder))
            throw new UsageException($"--json: folder '{folder}' does not exist.");
    }

    /// <summary>
    /// Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/>, then renames it into place:
    /// an earlier results file is replaced whole or left as it was, never half-written.
    /// </summary>
    private static void WriteReplacing(string path, string text)
    {
        string full = Path.GetFullPath(path);
        string temporary = $"{full}.{Environment.ProcessId}.tmp";
        try
        {
            File.WriteAllText(temporary, text);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }

    /// <summary>
    /// A model path as the results record it: relative to the repository when inside it (results are committed, and
    /// this machine's folders mean nothing elsewhere), otherwise as given.
    /// </summary>
    private static string Shown(string path, string? root)
    {
        if (root is null)
            return path;
        string relative = Path.GetRelativePath(root, Path.GetFullPath(path));
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    /// <summary>The folder holding EdgeLm.slnx above this program or the working folder, if any.</summary>
    private static string? RepositoryRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "EdgeLm.slnx")))
                    return dir.FullName;
            }
        }
        return null;
    }

    /// <summary>
    /// /proc/loadavg's 1, 5 and 15-minute load averages: on a shared machine, how busy it was around the measurements.
    /// </summary>
    private static string LoadAverage()
    {
        const string LoadAvg = "/proc/loadavg";
        return File.Exists(LoadAvg) ? string.Join(' ', File.ReadAllText(LoadAvg).Split(' ').Take(3)) : "unknown";
    }

    /// <summary>The CPU's model name from /proc/cpuinfo (as lscpu prints it), or the architecture.</summary>
    private static string CpuName()
    {
        const string CpuInfo = "/proc/cpuinfo";
        if (File.Exists(CpuInfo))
        {
            foreach (string line in File.ReadLines(CpuInfo))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.Contains(':'))
                    return line[(line.IndexOf(':') + 1)..].Trim();
            }
        }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}
