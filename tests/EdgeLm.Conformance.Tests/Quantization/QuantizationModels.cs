using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Testing;

namespace EdgeLm.Conformance.Tests.Quantization;

/// <summary>
/// Source models for the quantization tests, written once into a temporary folder: stories260K (a real model whose
/// 64- and 172-wide rows exercise llama.cpp's fallbacks), and two random-weight models whose rows are multiples of 256
/// so every k-quant applies: "llama8" (8 layers, so the layer-dependent bumps of the mixes vary, grouped-query
/// attention with 4 query heads per KV head, stored in F16) and "qwen4" (4 layers, tied embeddings, no grouping, F32).
/// Both take stories260K's 512-token vocabulary to stay small.
/// </summary>
public sealed class QuantizationModels : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, string> _paths = [];

    public QuantizationModels() => Directory.CreateDirectory(Folder);

    /// <summary>A temporary folder removed with the fixture.</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"edgelm-quantize-{Guid.NewGuid():N}");

    /// <summary>The source model called <paramref name="name"/>: "stories260K", "llama8" or "qwen4".</summary>
    public string Get(string name)
    {
        if (name == "stories260K")
            return RepoPaths.Stories260K;
        lock (_gate)
        {
            if (_paths.TryGetValue(name, out var existing))
                return existing;
            var options = name switch
            {
                "llama8" => new SynthesisOptions
                {
                    Architecture = "llama", EmbeddingLength = 256, BlockCount = 8, HeadCount = 8, KeyValueHeadCount = 2,
                    FeedForwardLength = 256, StandardDeviation = 0.1f, Seed = 11, ContextLength = 512, Type = GgmlType.F16,
                },
                "qwen4" => new SynthesisOptions
                {
                    Architecture = "qwen2", EmbeddingLength = 256, BlockCount = 4, HeadCount = 4, KeyValueHeadCount = 4,
                    FeedForwardLength = 256, StandardDeviation = 0.1f, Seed = 12, ContextLength = 512, TiedEmbeddings = true,
                },
                _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown test model."),
            };
            string path = Path.Combine(Folder, name + ".gguf");
            using (var vocab = GgufFile.Open(RepoPaths.Stories260K))
                ModelSynthesizer.Write(path, options, vocab.MetadataInOrder);
            _paths[name] = path;
            return path;
        }
    }

    /// <summary>A fresh path in the temporary folder.</summary>
    public string NewPath(string stem) => Path.Combine(Folder, $"{stem}-{Guid.NewGuid():N}.gguf");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A mapping still open; the OS cleans its temporary folder eventually.
        }
    }
}
