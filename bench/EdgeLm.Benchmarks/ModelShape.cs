using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Conformance.Tests.Oracle;

namespace EdgeLm.Benchmarks;

/// <summary>A Llama-architecture shape the benchmark synthesizes (random weights, the llama SentencePiece vocabulary).</summary>
/// <param name="Name">What --sizes calls it: roughly the parameter count with the 32000-token vocabulary.</param>
internal sealed record ModelShape(string Name, int EmbeddingLength, int BlockCount, int HeadCount, int KeyValueHeadCount, int FeedForwardLength)
{
    /// <summary>The shapes of DESIGN.md and issue 3, plus a tiny one for smoke runs.</summary>
    public static IReadOnlyList<ModelShape> All { get; } =
    [
        new("tiny", 256, 2, 4, 2, 512),
        new("134M", 768, 12, 12, 12, 2048),
        new("487M", 1024, 24, 16, 4, 4864),
    ];

    public static ModelShape Find(string name) =>
        All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new UsageException($"unknown size '{name}' ({string.Join(", ", All.Select(s => s.Name))}).");

    public override string ToString() =>
        $"{Name}: {EmbeddingLength} wide, {BlockCount} layers, {HeadCount} heads ({KeyValueHeadCount} KV), FFN {FeedForwardLength}";
}

/// <summary>
/// The folder of benchmark models: <c>llama-{size}-F16.gguf</c> written by EdgeLm's synthesizer (std 0.02, seed 1),
/// and every other type quantized from it by llama.cpp's quantizer (EdgeLm has none yet). Files are reused when present;
/// both writers write to a temporary name and rename, so a file that exists is complete.
/// </summary>
internal sealed class ModelCache(string folder, string vocabularyPath, int threads)
{
    public string Folder { get; } = folder;

    /// <summary>The model of <paramref name="shape"/> stored as <paramref name="type"/>, made first if missing.</summary>
    public string Ensure(ModelShape shape, string type, TextWriter log)
    {
        Directory.CreateDirectory(Folder);
        string basePath = PathOf(shape, "F16");
        if (!File.Exists(basePath))
        {
            log.WriteLine($"synthesizing {shape} at F16 -> {basePath}");
            var options = new SynthesisOptions
            {
                Architecture = "llama",
                EmbeddingLength = shape.EmbeddingLength,
                BlockCount = shape.BlockCount,
                HeadCount = shape.HeadCount,
                KeyValueHeadCount = shape.KeyValueHeadCount,
                FeedForwardLength = shape.FeedForwardLength,
                Type = GgmlType.F16,
                StandardDeviation = 0.02f,
                Seed = 1,
            };
            ModelSynthesizer.Write(basePath, options, ReadVocabulary(vocabularyPath));
        }
        if (string.Equals(type, "F16", StringComparison.OrdinalIgnoreCase))
            return basePath;

        string path = PathOf(shape, type);
        if (!File.Exists(path))
        {
            log.WriteLine($"quantizing {Path.GetFileName(basePath)} to {type} with llama.cpp -> {path}");
            LlamaCppLibrary.EnsureLoaded();
            LlamaCppQuantizer.Quantize(basePath, path, type, quantizeOutputTensor: true, threads: threads);
        }
        return path;
    }

    private string PathOf(ModelShape shape, string type) => Path.Combine(Folder, $"llama-{shape.Name}-{type.ToUpperInvariant()}.gguf");

    /// <summary>The <c>tokenizer.*</c> metadata of a vocabulary GGUF, to copy into synthesized models.</summary>
    private static IReadOnlyList<KeyValuePair<string, GgufValue>> ReadVocabulary(string path)
    {
        if (!File.Exists(path))
            throw new UsageException($"--vocab: file '{path}' does not exist.");
        using var gguf = GgufFile.Open(path);
        var keys = gguf.MetadataInOrder.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
        if (!keys.Any(kv => kv.Key == GgufKeys.TokenizerTokens))
            throw new UsageException($"--vocab: '{path}' has no vocabulary ('{GgufKeys.TokenizerTokens}').");
        return keys;
    }
}
