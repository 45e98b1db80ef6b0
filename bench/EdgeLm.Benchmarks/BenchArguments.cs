namespace EdgeLm.Benchmarks;

/// <summary>A bad command line: the message says which option and why. Exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The benchmark's command line, parsed and checked.</summary>
internal sealed record BenchArguments
{
    public const string Usage = """
        EdgeLm against llama.cpp (LLamaSharp) on the same synthesized GGUF files.

        usage: dotnet run -c Release --project bench/EdgeLm.Benchmarks -- [options]
          --models DIR        cache folder for the synthesized and quantized models
                              (default: .cache/bench-models in the repository, else the system temp folder)
          --sizes LIST        model shapes, comma-separated: tiny, 134M, 487M (default: 134M)
          --types LIST        weight types: F16, Q8_0, Q4_0, Q4_K_M or any llama-quantize name (default: F16,Q8_0,Q4_0,Q4_K_M)
          --files LIST        measure these GGUF files as they are instead of synthesized shapes (e.g. a model and
                              its pruned copy); --sizes and --types are then ignored
          -t, --threads N     threads for both engines (default: one per core)
          -r, --repetitions N measured repetitions per engine and model (default: 5)
          -p, --n-prompt N    prompt tokens of the prompt-processing test (default: 128)
          -n, --n-gen N       tokens of the generation test (default: 64)
          --ttft-prompt N     prompt tokens of the time-to-first-token test (default: 16)
          --engines LIST      any of edgelm, llamacpp, llamacpp-passive (default: all three); llamacpp-passive is
                              llama.cpp with OMP_WAIT_POLICY=PASSIVE, much faster than its default when other
                              processes compete for the cores; ratios are taken against the better llama.cpp
          --vocab FILE        vocabulary GGUF for the synthesized models
                              (default: tests/fixtures/vocab/ggml-vocab-llama-spm.gguf)
          --wait-idle SECONDS before each round, wait up to this long for other processes to use under
                              0.25 cores (default: 10; 0: do not wait); the load seen is reported either way
          --json FILE         also write the results as JSON to FILE
          --prepare           only make the models (synthesize and quantize into the cache), measure nothing
          --quick             smoke mode: the tiny model at Q4_0, 1 repetition, -p 16 -n 8, --wait-idle 0
                              (explicit options still win)
          -h, --help          this text

        Internal: --child edgelm|llamacpp --model FILE runs one measurement round in this process and prints JSON.
        """;

    public bool Help { get; init; }
    public string? ModelsFolder { get; init; }
    public IReadOnlyList<string> Sizes { get; init; } = ["134M"];
    public IReadOnlyList<string> Types { get; init; } = ["F16", "Q8_0", "Q4_0", "Q4_K_M"];
    public IReadOnlyList<string> Files { get; init; } = [];
    public IReadOnlyList<string> Engines { get; init; } = EngineNames.All;
    public int Threads { get; init; } = Environment.ProcessorCount;
    public int Repetitions { get; init; } = 5;
    public int PromptTokens { get; init; } = 128;
    public int GeneratedTokens { get; init; } = 64;
    public int FirstTokenPromptTokens { get; init; } = 16;
    public string? VocabularyPath { get; init; }
    public string? JsonPath { get; init; }
    public bool Quick { get; init; }
    public bool PrepareOnly { get; init; }
    public int WaitIdleSeconds { get; init; } = 10;

    /// <summary>Set in a child process: which engine to measure.</summary>
    public string? Child { get; init; }

    /// <summary>The model file a child measures.</summary>
    public string? Model { get; init; }

    /// <summary>The protocol's settings, shared with the children.</summary>
    public ProtocolSettings Protocol => new(Threads, PromptTokens, GeneratedTokens, FirstTokenPromptTokens);

    public static BenchArguments Parse(IReadOnlyList<string> args)
    {
        var a = new BenchArguments();
        bool quick = args.Contains("--quick");
        if (quick)
            a = a with { Quick = true, Sizes = ["tiny"], Types = ["Q4_0"], Repetitions = 1, PromptTokens = 16, GeneratedTokens = 8, WaitIdleSeconds = 0 };

        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new UsageException($"{name} needs a value.");
            a = name switch
            {
                "-h" or "--help" => a with { Help = true },
                "--quick" => a,
                "--prepare" => a with { PrepareOnly = true },
                "--models" => a with { ModelsFolder = Value() },
                "--sizes" => a with { Sizes = List(Value(), name) },
                "--types" => a with { Types = List(Value(), name) },
                "--files" => a with { Files = List(Value(), name) },
                "--engines" => a with { Engines = CheckEngines(List(Value(), name), name) },
                "-t" or "--threads" => a with { Threads = Count(Value(), name, 1024) },
                "-r" or "--repetitions" => a with { Repetitions = Count(Value(), name, 10_000) },
                "-p" or "--n-prompt" => a with { PromptTokens = Count(Value(), name, 1 << 16) },
                "-n" or "--n-gen" => a with { GeneratedTokens = Count(Value(), name, 1 << 16) },
                "--ttft-prompt" => a with { FirstTokenPromptTokens = Count(Value(), name, 1 << 16) },
                "--vocab" => a with { VocabularyPath = Value() },
                "--json" => a with { JsonPath = Value() },
                "--wait-idle" => a with { WaitIdleSeconds = WholeNumber(Value(), name, 3600) },
                "--child" => a with { Child = CheckEngines([Value()], name)[0] },
                "--model" => a with { Model = Value() },
                _ => throw new UsageException($"unknown option '{name}'; see --help."),
            };
        }
        if (a.Child is not null && a.Model is null)
            throw new UsageException("--child needs --model FILE.");
        foreach (string size in a.Sizes)
            _ = ModelShape.Find(size);
        return a;
    }

    private static string[] List(string value, string option)
    {
        var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return items.Length > 0 ? items : throw new UsageException($"{option} needs at least one item.");
    }

    private static string[] CheckEngines(string[] engines, string option)
    {
        foreach (string e in engines)
        {
            if (!EngineNames.All.Contains(e))
                throw new UsageException($"{option}: unknown engine '{e}' ({string.Join(", ", EngineNames.All)}).");
        }
        return engines;
    }

    private static int WholeNumber(string value, string option, int max) =>
        int.TryParse(value, out int n) && n >= 0 && n <= max
            ? n
            : throw new UsageException($"{option} must be a whole number from 0 to {max}, got '{value}'.");

    private static int Count(string value, string option, int max) =>
        int.TryParse(value, out int n) && n >= 1 && n <= max
            ? n
            : throw new UsageException($"{option} must be a whole number from 1 to {max}, got '{value}'.");
}

/// <summary>The engines' names on the command line and in the JSON, and what each child process needs.</summary>
internal static class EngineNames
{
    public const string EdgeLm = "edgelm";

    /// <summary>llama.cpp with every setting at its default, OpenMP's wait policy included (threads spin at barriers).</summary>
    public const string LlamaCpp = "llamacpp";

    /// <summary>
    /// The same llama.cpp with OMP_WAIT_POLICY=PASSIVE (threads sleep at barriers): slower on an idle machine, far
    /// faster when other processes hold the cores, since a spinning thread then waits for a descheduled one.
    /// </summary>
    public const string LlamaCppPassive = "llamacpp-passive";

    public static IReadOnlyList<string> All { get; } = [EdgeLm, LlamaCpp, LlamaCppPassive];

    public static bool IsLlamaCpp(string engine) => engine is LlamaCpp or LlamaCppPassive;

    public static string Display(string engine) => engine switch
    {
        EdgeLm => "EdgeLm",
        LlamaCpp => "llama.cpp",
        LlamaCppPassive => "llama.cpp, OMP passive",
        _ => engine,
    };

    /// <summary>The OpenMP wait policy a child runs with: null removes the variable, so llama.cpp sees its default.</summary>
    public static string? OmpWaitPolicy(string engine) => engine == LlamaCppPassive ? "PASSIVE" : null;
}
