using System.CommandLine;
using EdgeLm.Runtime;
using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Cli.Commands;

/// <summary>Options several verbs share, and the checks on their values.</summary>
internal static class CommonOptions
{
    /// <summary>The bundled default model, relative to the tool or the repository.</summary>
    public const string DefaultModelRelativePath = "models/stories260K.gguf";

    public static Option<string?> Model() => new("--model", "-m")
    {
        Description = $"GGUF model file (default: the bundled {DefaultModelRelativePath})",
    };

    public static Option<int?> Threads() => new("--threads", "-t")
    {
        Description = "worker threads (default: one per core)",
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "print one JSON object instead of text",
    };

    public static Option<int?> Context() => new("--ctx-size", "-c")
    {
        Description = "context length in tokens (default: the model's, at most 4096)",
    };

    public static Option<string?> CacheType() => new("--cache-type")
    {
        Description = "KV cache type: f16 (default) or q8_0 (53% of the memory; needs heads a multiple of 32 wide)",
    };

    /// <summary>Reads --cache-type: null means F16; anything but f16 or q8_0 is a usage error.</summary>
    public static KvCacheType CheckCacheType(string? value)
    {
        if (value is null)
            return KvCacheType.F16;
        return KvCacheTypes.TryParse(value, out var type) ? type : throw new UsageException($"--cache-type must be f16 or q8_0, got '{value}'.");
    }

    /// <summary>A usage error when <paramref name="model"/>'s heads cannot be stored in a <paramref name="type"/> cache.</summary>
    public static void CheckCacheFits(KvCacheType type, LanguageModel model)
    {
        int width = model.HyperParameters.HeadDimension;
        if (!KvCacheTypes.Supports(type, width))
            throw new UsageException($"--cache-type {KvCacheTypes.Name(type)} stores blocks of 32 along each attention head, but this model's heads are {width} wide; use --cache-type f16.");
    }

    /// <summary>The model path asked for, or the bundled default found beside the tool or above the working folder.</summary>
    public static string ResolveModel(string? requested)
    {
        if (requested is not null)
        {
            if (!File.Exists(requested))
                throw new UsageException($"model file '{requested}' does not exist.");
            return requested;
        }
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, DefaultModelRelativePath);
                if (File.Exists(candidate))
                    return candidate;
            }
        }
        throw new UsageException($"no model given and the bundled {DefaultModelRelativePath} was not found; pass -m MODEL.gguf.");
    }

    /// <summary>Checks a thread count: null means one per core.</summary>
    public static int? CheckThreads(int? threads) =>
        threads is null or (> 0 and <= 1024) ? threads : throw new UsageException($"--threads must be between 1 and 1024, got {threads}.");

    /// <summary>Checks a context length.</summary>
    public static int? CheckContext(int? context) =>
        context is null or (> 0 and <= 1 << 20) ? context : throw new UsageException($"--ctx-size must be between 1 and {1 << 20}, got {context}.");

    /// <summary>Reads a text file named on the command line, with a usage error when it is missing.</summary>
    public static string ReadTextFile(string path, string option)
    {
        if (!File.Exists(path))
            throw new UsageException($"{option}: file '{path}' does not exist.");
        return File.ReadAllText(path);
    }
}
