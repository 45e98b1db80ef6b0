using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Testing;

namespace EdgeLm.Compression.Tests.Quantization;

/// <summary>
/// Small models for the quantizer tests in a temporary folder: "llama8", a random 8-layer Llama with 256-wide rows
/// and grouped-query attention (8 query heads on 2 KV heads), in F16, with stories260K's 512-token vocabulary; and
/// the real stories260K.
/// </summary>
public sealed class TestModels : IDisposable
{
    private readonly Lock _gate = new();
    private string? _llama8;

    public TestModels() => Directory.CreateDirectory(Folder);

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"edgelm-compression-{Guid.NewGuid():N}");

    public static string Stories260K => RepoPaths.Stories260K;

    /// <summary>The options "llama8" is written with.</summary>
    public static SynthesisOptions Llama8Options => new()
    {
        Architecture = "llama", EmbeddingLength = 256, BlockCount = 8, HeadCount = 8, KeyValueHeadCount = 2,
        FeedForwardLength = 256, StandardDeviation = 0.1f, Seed = 5, ContextLength = 256, Type = GgmlType.F16,
    };

    public string Llama8
    {
        get
        {
            lock (_gate)
            {
                if (_llama8 is null)
                {
                    string path = Path.Combine(Folder, "llama8.gguf");
                    using (var vocab = GgufFile.Open(RepoPaths.Stories260K))
                        ModelSynthesizer.Write(path, Llama8Options, vocab.MetadataInOrder);
                    _llama8 = path;
                }
                return _llama8;
            }
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
        }
    }
}
