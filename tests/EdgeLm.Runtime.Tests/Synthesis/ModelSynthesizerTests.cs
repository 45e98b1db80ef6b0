using System.Security.Cryptography;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Architectures;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Testing;

namespace EdgeLm.Runtime.Tests.Synthesis;

public sealed class ModelSynthesizerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-synth-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static IReadOnlyList<KeyValuePair<string, GgufValue>> Vocabulary(string name)
    {
        using var vocab = GgufFile.Open(RepoPaths.Fixture("vocab", $"ggml-vocab-{name}.gguf"));
        return vocab.MetadataInOrder.ToList();
    }

    private static SynthesisOptions Small(string arch) => new()
    {
        Architecture = arch, EmbeddingLength = 64, BlockCount = 2, HeadCount = 4, KeyValueHeadCount = 2, FeedForwardLength = 96,
        StandardDeviation = 0.1f, Seed = 5,
    };

    private string PathFor(string name) => Path.Combine(_folder, name);

    [Theory]
    [InlineData("llama", GgmlType.F32)]
    [InlineData("llama", GgmlType.F16)]
    [InlineData("qwen2", GgmlType.BF16)]
    public void WritesAModelOurEngineLoadsAndRuns(string arch, GgmlType type)
    {
        string path = PathFor($"{arch}-{type}.gguf");
        long parameters = ModelSynthesizer.Write(path, Small(arch) with { Type = type }, Vocabulary("llama-spm"));
        int V = 32000;
        long expected = 2L * V * 64 + 2 * (64 + 64 * 64 + 2 * 32 * 64 + 64 * 64 + 64 + 3 * 96 * 64) + 64
                        + (arch == "qwen2" ? 2 * (64 + 32 + 32) : 0);
        Assert.Equal(expected, parameters);

        using var lm = LanguageModel.Load(path);
        Assert.Equal(arch, lm.HyperParameters.Architecture);
        Assert.Equal(arch == "qwen2" ? RopeStyle.Neox : RopeStyle.Normal, lm.HyperParameters.RopeStyle);
        Assert.Equal(type, lm.File.GetTensor("blk.0.attn_q.weight").Type);
        Assert.Equal(GgmlType.F32, lm.File.GetTensor("blk.0.attn_norm.weight").Type);
        Assert.Equal([64L, 64L], lm.File.GetTensor("blk.1.attn_q.weight").Dimensions);
        Assert.Equal([64L, 32L], lm.File.GetTensor("blk.1.attn_k.weight").Dimensions);
        Assert.Equal([96L, 64L], lm.File.GetTensor("blk.1.ffn_down.weight").Dimensions);
        var logits = lm.CreateSession().Evaluate(lm.Tokenizer.Encode("Hello world", true, false)).ToArray();
        Assert.All(logits, l => Assert.True(float.IsFinite(l)));
        // std 0.1 makes the distribution sharp: the logits spread well beyond +-1.
        Assert.True(logits.Max() - logits.Min() > 2f);
    }

    [Fact]
    public void TheSameSeedWritesTheSameBytesAndAnotherSeedOthers()
    {
        var vocab = Vocabulary("llama-spm");
        ModelSynthesizer.Write(PathFor("a.gguf"), Small("llama"), vocab);
        ModelSynthesizer.Write(PathFor("b.gguf"), Small("llama"), vocab);
        ModelSynthesizer.Write(PathFor("c.gguf"), Small("llama") with { Seed = 6 }, vocab);
        byte[] Hash(string f) => SHA256.HashData(File.ReadAllBytes(PathFor(f)));
        Assert.Equal(Hash("a.gguf"), Hash("b.gguf"));
        Assert.NotEqual(Hash("a.gguf"), Hash("c.gguf"));
    }

    [Fact]
    public void WeightsFollowTheRequestedDistribution()
    {
        string path = PathFor("dist.gguf");
        ModelSynthesizer.Write(path, Small("llama") with { StandardDeviation = 0.5f }, Vocabulary("llama-spm"));
        using var file = GgufFile.Open(path);
        var bytes = file.GetTensorBytes(file.GetTensor("token_embd.weight"));
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes);
        double mean = 0, square = 0;
        foreach (float v in values)
        {
            mean += v;
            square += v * v;
        }
        mean /= values.Length;
        double std = Math.Sqrt(square / values.Length - mean * mean);
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(std, 0.49, 0.51);
        var norm = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(file.GetTensor("output_norm.weight")));
        Assert.All(norm.ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void TiedModelsHaveNoOutputMatrixAndReuseTheEmbedding()
    {
        string path = PathFor("tied.gguf");
        ModelSynthesizer.Write(path, Small("llama") with { TiedEmbeddings = true }, Vocabulary("gpt-2"));
        using var lm = LanguageModel.Load(path);
        Assert.Null(lm.File.FindTensor("output.weight"));
        Assert.Equal(lm.Transformer.Weights.TokenEmbedding.Type, lm.Transformer.Weights.Output.Type);
        Assert.Equal(50257, lm.HyperParameters.VocabularySize);
    }

    [Theory]
    [InlineData("gpt2", 64, 4, 2)]
    [InlineData("llama", 65, 4, 2)]
    [InlineData("llama", 64, 4, 3)]
    [InlineData("llama", 0, 4, 2)]
    public void BadShapesAreRefusedBeforeAnythingIsWritten(string arch, int embd, int heads, int kvHeads)
    {
        string path = PathFor("bad.gguf");
        var options = Small("llama") with { Architecture = arch, EmbeddingLength = embd, HeadCount = heads, KeyValueHeadCount = kvHeads };
        Assert.Throws<ArgumentException>(() => ModelSynthesizer.Write(path, options, Vocabulary("llama-spm")));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Llama3RopeFactorsAreStoredAndChangeTheLogits()
    {
        var vocab = Vocabulary("llama-spm");
        var plain = Small("llama") with { RopeFrequencyBase = 500_000f };
        float[] factors = Llama3RopeScaling.FrequencyFactors(16, 500_000f, originalContextLength: 64);
        Assert.Contains(1f, factors);
        Assert.Contains(8f, factors);
        Assert.Contains(factors, f => f is > 1f and < 8f);
        ModelSynthesizer.Write(PathFor("plain.gguf"), plain, vocab);
        ModelSynthesizer.Write(PathFor("scaled.gguf"), plain with { RopeFrequencyFactors = factors }, vocab);

        float[] Logits(string file)
        {
            using var lm = LanguageModel.Load(PathFor(file));
            return lm.CreateSession().Evaluate(lm.Tokenizer.Encode("one two three four five six seven eight", true, false)).ToArray();
        }
        using (var scaled = LanguageModel.Load(PathFor("scaled.gguf")))
            Assert.Equal(factors, scaled.Transformer.Weights.RopeFrequencyFactors);
        float[] a = Logits("plain.gguf"), b = Logits("scaled.gguf");
        double maxDifference = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        Assert.True(maxDifference > 0.05, $"RoPE factors changed the logits by at most {maxDifference}");
    }
}
