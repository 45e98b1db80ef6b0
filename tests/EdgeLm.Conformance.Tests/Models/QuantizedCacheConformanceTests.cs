using EdgeLm.Conformance.Tests.Oracle;
using EdgeLm.Conformance.Tests.Support;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.KvCache;
using EdgeLm.Testing;
using LLama.Native;
using Xunit.Abstractions;

namespace EdgeLm.Conformance.Tests.Models;

/// <summary>
/// A Q8_0 KV cache in EdgeLm against llama.cpp with the same cache types, after the same 64-token prompt:
/// <list type="bullet">
/// <item>K Q8_0, V F16 against llama.cpp's plain attention (<c>-ctk q8_0</c>, flash attention off): both rotate
/// queries and keys (Walsh-Hadamard), quantize the keys as they are stored and the queries before an integer dot;</item>
/// <item>K and V Q8_0 against llama.cpp's flash attention (<c>-ctk q8_0 -ctv q8_0 -fa on</c>, the only way it
/// quantizes V): both also rotate the values and sum dequantized value rows under an online softmax;</item>
/// <item>the same with the rotation switched off on both sides (LLAMA_ATTN_ROT_DISABLE=1).</item>
/// </list>
/// Each comparison also measures what quantizing the cache costs (EdgeLm's Q8_0 cache against llama.cpp's F16
/// cache), so the agreement with llama.cpp shows as far closer than the quantization error. With float weights the
/// two engines agree to rounding; quantized weights add llama.cpp's 8-bit activations, whose rounding amplifies any
/// last-bit difference (as for the F16 cache, see LogitConformanceTests).
/// </summary>
[Collection(OracleCollection.Name)]
public class QuantizedCacheConformanceTests(SynthModelFixture models, ITestOutputHelper log) : IClassFixture<SynthModelFixture>
{
    private const int PromptLength = 64;

    [Theory]
    [InlineData("llama", "F16", 1e-6)]
    [InlineData("qwen2", "F32", 1e-6)]
    [InlineData("llama", "Q8_0", 3e-4)]
    public void QuantizedKeysMatchLlamaCpp(string arch, string type, double klBound)
    {
        var (vsOracle, vsF16) = Compare(models.Get(arch, type), KvCacheType.Q8_0, KvCacheType.F16, flashAttention: false, rotation: true);
        AssertClose(vsOracle, vsF16, klBound);
    }

    [Theory]
    [InlineData("llama", "F16", 1e-5)]
    [InlineData("qwen2", "F32", 1e-5)]
    [InlineData("llama", "Q8_0", 3e-4)]
    public void QuantizedKeysAndValuesMatchLlamaCppFlashAttention(string arch, string type, double klBound)
    {
        var (vsOracle, vsF16) = Compare(models.Get(arch, type), KvCacheType.Q8_0, KvCacheType.Q8_0, flashAttention: true, rotation: true);
        AssertClose(vsOracle, vsF16, klBound);
    }

    [Theory]
    [InlineData(KvCacheType.F16, false)]
    [InlineData(KvCacheType.Q8_0, true)]
    public void WithoutTheRotationBothEnginesStillAgree(KvCacheType values, bool flashAttention)
    {
        var (vsOracle, vsF16) = Compare(models.Get("llama", "F16"), KvCacheType.Q8_0, values, flashAttention, rotation: false);
        AssertClose(vsOracle, vsF16, 1e-5);
    }

    private static void AssertClose(Comparison vsOracle, Comparison vsF16, double klBound)
    {
        Assert.True(vsOracle.ArgmaxAgreement >= 0.98, $"argmax agreement {vsOracle.ArgmaxAgreement:P1}");
        Assert.True(vsOracle.MeanKl < klBound, $"mean KL {vsOracle.MeanKl:E3}, bound {klBound:E1}");
        Assert.True(vsOracle.MeanKl < vsF16.MeanKl / 5,
            $"mean KL {vsOracle.MeanKl:E3} against llama.cpp's Q8_0 cache, {vsF16.MeanKl:E3} against its F16 cache");
    }

    private sealed record Comparison(double ArgmaxAgreement, double MeanKl, double MaxKl);

    /// <summary>EdgeLm with the given cache against llama.cpp with the same cache, and against llama.cpp's F16 cache.</summary>
    private (Comparison VsOracle, Comparison VsF16) Compare(string path, KvCacheType keys, KvCacheType values, bool flashAttention, bool rotation)
    {
        using var lm = LanguageModel.Load(path);
        string text = File.ReadAllText(RepoPaths.Fixture("corpora", "tinystories-sample.txt"));
        int[] prompt = lm.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false)[..PromptLength];
        int V = lm.HyperParameters.VocabularySize;
        var ours = new float[prompt.Length * V];
        var options = new SessionOptions
        {
            Threads = 2, ContextLength = 128, KeyCacheType = keys, ValueCacheType = values, RotateQuantizedCache = rotation,
        };
        lm.CreateSession(options).EvaluateAll(prompt, ours);

        float[][] quantized, f16;
        using (var oracle = LlamaCppModel.Load(path, contextLength: 128, threads: 2, Ggml(keys), Ggml(values), flashAttention, rotation))
            quantized = oracle.EvaluateAllLogits(prompt);
        using (var oracle = LlamaCppModel.Load(path, contextLength: 128, threads: 2))
            f16 = oracle.EvaluateAllLogits(prompt);

        var vsOracle = Measure(ours, quantized, V);
        var vsF16 = Measure(ours, f16, V);
        string name = $"{Path.GetFileName(path)} K {keys} V {values}{(flashAttention ? ", llama.cpp flash attention" : "")}{(rotation ? "" : ", no rotation")}";
        log.WriteLine($"{name}: vs llama.cpp same cache: argmax {vsOracle.ArgmaxAgreement:P1}, mean KL {vsOracle.MeanKl:E3}, max KL {vsOracle.MaxKl:E3}");
        log.WriteLine($"{name}: vs llama.cpp F16 cache:  argmax {vsF16.ArgmaxAgreement:P1}, mean KL {vsF16.MeanKl:E3}, max KL {vsF16.MaxKl:E3}");
        return (vsOracle, vsF16);
    }

    private static GGMLType Ggml(KvCacheType type) => type == KvCacheType.Q8_0 ? GGMLType.GGML_TYPE_Q8_0 : GGMLType.GGML_TYPE_F16;

    private static Comparison Measure(float[] ours, float[][] theirs, int V)
    {
        int agree = 0;
        double sum = 0, max = 0;
        for (int i = 0; i < theirs.Length; i++)
        {
            var mine = ours.AsSpan(i * V, V);
            if (LogitComparison.ArgMax(mine) == LogitComparison.ArgMax(theirs[i]))
                agree++;
            double kl = LogitComparison.KlDivergence(theirs[i], mine);
            sum += kl;
            max = Math.Max(max, kl);
        }
        return new Comparison(agree / (double)theirs.Length, sum / theirs.Length, max);
    }
}
