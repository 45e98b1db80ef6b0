using EdgeLm.Compression.Fitting;
using EdgeLm.Conformance.Tests.Oracle;
using EdgeLm.Conformance.Tests.Support;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;
using EdgeLm.Testing;
using Xunit.Abstractions;

namespace EdgeLm.Conformance.Tests.Fitting;

/// <summary>
/// A file written by <c>fit</c> mixes tensor types freely, tensor by tensor, beyond any llama.cpp mix: llama.cpp must
/// load it and agree with EdgeLm on it (the quantized-model thresholds of the logit conformance tests).
/// </summary>
[Collection(OracleCollection.Name)]
public sealed class FittedModelConformanceTests(ITestOutputHelper log) : IDisposable
{
    private const int PromptLength = 64;
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-fit-conformance-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.25)]
    public void FittedStories260KRunsInLlamaCppWithTheSameLogits(double position)
    {
        var options = new FitOptions { Budget = long.MaxValue, ContextLength = 256, Margin = 0, Threads = 2 };
        var measured = ModelFitter.Measure(RepoPaths.Stories260K, options);
        // A budget between the smallest possible model and an F16-sized one, so the solver must mix types.
        long roomy = measured.Minimum + measured.Tensors.Where(t => t.Chosen).Sum(t => t.Dimensions.Aggregate(1L, (a, d) => a * d) * 2);
        long budget = measured.Minimum + (long)((roomy - measured.Minimum) * position);
        var plan = measured.Solve(budget);
        string output = Path.Combine(_folder, $"fit-{position}.gguf");
        ModelFitter.Write(RepoPaths.Stories260K, output, plan, options with { Budget = budget });
        var types = plan.Tensors.Where(t => t.Chosen).Select(t => t.Type).Distinct().ToList();
        log.WriteLine($"budget {budget}: {plan.Memory.Total} used, types {string.Join(", ", types)}");
        Assert.True(types.Count >= 2, $"the plan uses only {string.Join(", ", types)}: not a mixed file");
        Assert.True(plan.Memory.Total <= budget);

        using var lm = LanguageModel.Load(output);
        int[] prompt = lm.Tokenizer.Encode(File.ReadAllText(RepoPaths.Fixture("corpora", "tinystories-sample.txt")), addSpecial: true, parseSpecial: false)[..PromptLength];
        int V = lm.HyperParameters.VocabularySize;
        var ours = new float[prompt.Length * V];
        lm.CreateSession(new SessionOptions { Threads = 2, ContextLength = 128 }).EvaluateAll(prompt, ours);
        float[][] theirs;
        using (var oracle = LlamaCppModel.Load(output, contextLength: 128, threads: 2))
        {
            Assert.Equal(V, oracle.VocabularySize);
            theirs = oracle.EvaluateAllLogits(prompt);
        }
        var mine = Enumerable.Range(0, prompt.Length).Select(i => ours.AsSpan(i * V, V).ToArray()).ToArray();
        int agree = Enumerable.Range(0, prompt.Length).Count(i => LogitComparison.ArgMax(mine[i]) == LogitComparison.ArgMax(theirs[i]));
        double meanKl = LogitComparison.MeanKlDivergence(theirs, mine);
        log.WriteLine($"argmax agreement {agree}/{prompt.Length}, mean KL {meanKl:E3}");
        Assert.True(agree >= prompt.Length * 0.95, $"argmax agreement {agree}/{prompt.Length}");
        Assert.True(meanKl < 1e-3, $"mean KL {meanKl:E3}");
    }
}
