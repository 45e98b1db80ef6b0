using EdgeLm.Conformance.Tests.Oracle;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Testing;

namespace EdgeLm.Conformance.Tests.Models;

/// <summary>
/// Random-weight models of both architectures, written once by our synthesizer and quantized by llama.cpp, in a
/// temporary folder removed at the end. Shapes keep rows at multiples of 256 so the k-quants really apply, use
/// grouped-query attention, and draw weights with std 0.1 so the logits are sharp rather than near-uniform.
/// </summary>
public sealed class SynthModelFixture : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"edgelm-conformance-{Guid.NewGuid():N}");
    private readonly Dictionary<string, string> _paths = [];
    private readonly Lock _gate = new();

    public SynthModelFixture() => Directory.CreateDirectory(_folder);

    /// <summary>The shapes under test: a llama with the 32000-token SentencePiece vocabulary, a qwen2 with GPT-2's byte-level BPE.</summary>
    public static SynthesisOptions Shape(string arch) => arch switch
    {
        "llama" => new SynthesisOptions
        {
            Architecture = "llama", EmbeddingLength = 256, BlockCount = 2, HeadCount = 4, KeyValueHeadCount = 2,
            FeedForwardLength = 512, StandardDeviation = 0.1f, Seed = 1, ContextLength = 512,
        },
        "qwen2" => new SynthesisOptions
        {
            Architecture = "qwen2", EmbeddingLength = 256, BlockCount = 2, HeadCount = 4, KeyValueHeadCount = 1,
            FeedForwardLength = 512, StandardDeviation = 0.1f, Seed = 2, ContextLength = 512, TiedEmbeddings = true,
            RopeFrequencyBase = 1_000_000f, RmsNormEpsilon = 1e-6f,
        },
        // Llama 3.1-style: RoPE base 500000 with the rope_freqs scaling tensor.
        "llama3" => Shape("llama") with
        {
            Seed = 3, RopeFrequencyBase = 500_000f,
            RopeFrequencyFactors = EdgeLm.Runtime.Architectures.Llama3RopeScaling.FrequencyFactors(64, 500_000f, originalContextLength: 64),
        },
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    private static string VocabularyFor(string arch) => RepoPaths.Fixture("vocab", arch == "qwen2" ? "ggml-vocab-gpt-2.gguf" : "ggml-vocab-llama-spm.gguf");

    /// <summary>
    /// The model of <paramref name="arch"/> in <paramref name="type"/>: "F32", "F16" or "BF16" are written by us,
    /// anything else is llama.cpp's quantization of our F32 file.
    /// </summary>
    public string Get(string arch, string type)
    {
        lock (_gate)
        {
            string key = $"{arch}-{type}";
            if (_paths.TryGetValue(key, out var existing))
                return existing;
            string path = Path.Combine(_folder, key + ".gguf");
            if (type is "F32" or "F16" or "BF16")
            {
                using var vocab = GgufFile.Open(VocabularyFor(arch));
                var options = Shape(arch) with { Type = Enum.Parse<GgmlType>(type) };
                ModelSynthesizer.Write(path, options, vocab.MetadataInOrder);
            }
            else
            {
                LlamaCppQuantizer.Quantize(Get(arch, "F32"), path, type);
            }
            _paths[key] = path;
            return path;
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A mapping still open on some platform; the temp folder is cleaned by the OS eventually.
        }
    }
}
