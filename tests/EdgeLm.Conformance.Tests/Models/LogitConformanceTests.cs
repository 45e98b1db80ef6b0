using EdgeLm.Conformance.Tests.Support;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;
using EdgeLm.Testing;
using Xunit.Abstractions;

namespace EdgeLm.Conformance.Tests.Models;

/// <summary>
/// The same GGUF file in EdgeLm and in llama.cpp: after the same 64-token prompt, the next-token distributions at
/// every position must agree.
/// </summary>
[Collection(OracleCollection.Name)]
public class LogitConformanceTests(SynthModelFixture models, ITestOutputHelper log) : IClassFixture<SynthModelFixture>
{
    private const int PromptLength = 64;

    /// <summary>Float formats: the argmax equal at every position and the mean KL below 1e-5.</summary>
    [Theory]
    [InlineData("llama", "F32")]
    [InlineData("llama", "F16")]
    [InlineData("qwen2", "F32")]
    [InlineData("qwen2", "F16")]
    [InlineData("llama3", "F32")]
    public void FloatModelsMatchLlamaCpp(string arch, string type)
    {
        var c = Compare(models.Get(arch, type), threads: 2);
        Assert.Equal(1.0, c.ArgmaxAgreement);
        Assert.True(c.MeanKl < 1e-5, $"mean KL {c.MeanKl:E3}");
    }

    /// <summary>
    /// Quantized formats (quantized by llama.cpp): argmax agreement of at least 95% and mean KL below 1e-3.
    /// llama.cpp rounds activations to 8 bits before quantized products; EdgeLm does the same.
    /// </summary>
    [Theory]
    [InlineData("llama", "Q8_0")]
    [InlineData("llama", "Q4_0")]
    [InlineData("llama", "Q4_K_M")]
    [InlineData("llama", "Q6_K")]
    [InlineData("llama", "Q5_K_M")]
    [InlineData("llama", "Q3_K_M")]
    [InlineData("llama", "Q2_K")]
    [InlineData("qwen2", "Q8_0")]
    [InlineData("qwen2", "Q4_0")]
    [InlineData("qwen2", "Q4_K_M")]
    [InlineData("qwen2", "Q6_K")]
    public void QuantizedModelsMatchLlamaCpp(string arch, string type)
    {
        var c = Compare(models.Get(arch, type), threads: 2);
        Assert.True(c.ArgmaxAgreement >= 0.95, $"argmax agreement {c.ArgmaxAgreement:P1}");
        Assert.True(c.MeanKl < 1e-3, $"mean KL {c.MeanKl:E3}");
    }

    [Fact]
    public void Stories260KMatchesLlamaCpp()
    {
        var c = Compare(RepoPaths.Stories260K, threads: 2);
        Assert.Equal(1.0, c.ArgmaxAgreement);
        Assert.True(c.MeanKl < 1e-5, $"mean KL {c.MeanKl:E3}");
    }

    [Theory]
    [InlineData("llama", "Q4_0")]
    [InlineData("qwen2", "F16")]
    public void LogitsDoNotDependOnTheThreadCount(string arch, string type)
    {
        string path = models.Get(arch, type);
        using var lm = LanguageModel.Load(path);
        int[] prompt = Prompt(lm);
        float[] Run(int threads)
        {
            var logits = new float[prompt.Length * lm.HyperParameters.VocabularySize];
            lm.CreateSession(new SessionOptions { Threads = threads, ContextLength = 128 }).EvaluateAll(prompt, logits);
            return logits;
        }
        Assert.Equal(Run(1), Run(2));
    }

    private EngineAgreement Compare(string path, int threads)
    {
        var result = EngineAgreement.Measure(path, Prompt, threads);
        log.WriteLine($"{Path.GetFileName(path)}: {result}");
        return result;
    }

    /// <summary>The first 64 tokens of a real story (BOS first when the model adds one).</summary>
    private static int[] Prompt(LanguageModel lm)
    {
        string text = File.ReadAllText(RepoPaths.Fixture("corpora", "tinystories-sample.txt"));
        int[] tokens = lm.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
        Assert.True(tokens.Length >= PromptLength);
        return tokens[..PromptLength];
    }
}
