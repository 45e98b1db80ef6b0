using EdgeLm.Conformance.Tests.Oracle;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Conformance.Tests.Support;

/// <summary>
/// EdgeLm and llama.cpp on the same GGUF file and prompt: how often their next-token argmax agrees, and the KL
/// divergence of EdgeLm's distribution from llama.cpp's at every prompt position.
/// </summary>
public sealed record EngineAgreement(int Positions, int ArgmaxAgreements, double MeanKl, double MaxKl)
{
    /// <summary>The share of positions whose argmax agrees.</summary>
    public double ArgmaxAgreement => ArgmaxAgreements / (double)Positions;

    /// <summary>
    /// Evaluates <paramref name="prompt"/> (built from the loaded model, e.g. by tokenizing a text) in both engines,
    /// each with <paramref name="threads"/> threads and a context of <paramref name="contextLength"/>.
    /// </summary>
    public static EngineAgreement Measure(string path, Func<LanguageModel, int[]> prompt, int threads = 2, int contextLength = 128)
    {
        using var lm = LanguageModel.Load(path);
        int[] tokens = prompt(lm);
        int V = lm.HyperParameters.VocabularySize;
        var ours = new float[tokens.Length * V];
        lm.CreateSession(new SessionOptions { Threads = threads, ContextLength = contextLength }).EvaluateAll(tokens, ours);
        float[][] theirs;
        using (var oracle = LlamaCppModel.Load(path, contextLength: contextLength, threads: threads))
        {
            Assert.Equal(V, oracle.VocabularySize);
            theirs = oracle.EvaluateAllLogits(tokens);
        }
        int agree = 0;
        double klSum = 0, klMax = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            var mine = ours.AsSpan(i * V, V);
            if (LogitComparison.ArgMax(mine) == LogitComparison.ArgMax(theirs[i]))
                agree++;
            double kl = LogitComparison.KlDivergence(theirs[i], mine);
            klSum += kl;
            klMax = Math.Max(klMax, kl);
        }
        return new EngineAgreement(tokens.Length, agree, klSum / tokens.Length, klMax);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"argmax agreement {ArgmaxAgreements}/{Positions}, mean KL {MeanKl:E3}, max KL {MaxKl:E3}";
}
