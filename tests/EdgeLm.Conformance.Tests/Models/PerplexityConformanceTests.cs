using EdgeLm.Compression.Evaluation;
using EdgeLm.Conformance.Tests.Oracle;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;
using EdgeLm.Testing;
using Xunit.Abstractions;

namespace EdgeLm.Conformance.Tests.Models;

/// <summary>stories260K's perplexity on a TinyStories sample, EdgeLm against llama.cpp on the same tokens and chunks.</summary>
[Collection(OracleCollection.Name)]
public class PerplexityConformanceTests(ITestOutputHelper log)
{
    [Fact]
    public void Stories260KPerplexityIsWithinAThousandthOfLlamaCpps()
    {
        const int context = 128;
        string text = File.ReadAllText(RepoPaths.Fixture("corpora", "tinystories-sample.txt"));
        using var lm = LanguageModel.Load(RepoPaths.Stories260K);
        int[] tokens = lm.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
        int? bos = lm.Tokenizer.AddBos ? lm.Tokenizer.BosId : null;

        var session = lm.CreateSession(new SessionOptions { ContextLength = context, Threads = 2 });
        var logits = new float[context * lm.HyperParameters.VocabularySize];
        var ours = Perplexity.Compute(tokens, context, null, bos, chunk =>
        {
            session.Reset();
            session.EvaluateAll(chunk, logits);
            return logits;
        });

        using var oracle = LlamaCppModel.Load(RepoPaths.Stories260K, contextLength: context, threads: 2);
        Assert.Equal(tokens, oracle.Tokenize(text, addBos: true, parseSpecial: false));
        var theirs = Perplexity.Compute(tokens, context, null, bos, chunk => oracle.EvaluateAllLogits(chunk).SelectMany(row => row).ToArray());

        log.WriteLine($"EdgeLm {ours.Value:F6}, llama.cpp {theirs.Value:F6} over {ours.Chunks} chunks, {ours.ScoredTokens} tokens scored");
        Assert.Equal(theirs.Chunks, ours.Chunks);
        Assert.True(ours.Chunks >= 2);
        Assert.InRange(ours.Value / theirs.Value, 0.999, 1.001);
    }
}
