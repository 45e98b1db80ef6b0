using EdgeLm.Compression.Fitting;
using EdgeLm.Conformance.Tests.Support;
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

        string sample = File.ReadAllText(RepoPaths.Fixture("corpora", "tinystories-sample.txt"));
        var result = EngineAgreement.Measure(output, lm => lm.Tokenizer.Encode(sample, addSpecial: true, parseSpecial: false)[..PromptLength]);
        log.WriteLine(result.ToString());
        Assert.True(result.ArgmaxAgreement >= 0.95, result.ToString());
        Assert.True(result.MeanKl < 1e-3, result.ToString());
    }
}
