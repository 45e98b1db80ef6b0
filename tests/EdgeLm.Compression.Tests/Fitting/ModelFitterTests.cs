using EdgeLm.Compression.Fitting;
using EdgeLm.Compression.Quantization;
using EdgeLm.Gguf;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Compression.Tests.Fitting;

public class ModelFitterTests(FitFixture fixture) : IClassFixture<FitFixture>
{
    private static MemoryBreakdown MemoryOf(string path) =>
        MemoryModel.ForFile(path, FitFixture.Context, FitFixture.Threads, margin: 0);

    /// <summary>
    /// Three budgets between the smallest possible and the all-F16 size: the plan, the file written and the memory of
    /// that file as the runtime would need it all stay within the budget; the file is exactly as predicted.
    /// </summary>
    [Theory]
    [InlineData("stories260K")]
    [InlineData("llama8")]
    public void NeverExceedsTheBudget(string name)
    {
        var (matrix, measurements) = fixture.Measured(name);
        long largest = measurements.FixedMemory.Total + measurements.Tensors.Where(t => t.Chosen).Sum(t => t.Candidates.Max(c => c.Bytes));
        double previousCost = double.PositiveInfinity;
        foreach (double share in new[] { 0.15, 0.45, 0.8 })
        {
            long budget = measurements.Minimum + (long)((largest - measurements.Minimum) * share);
            var plan = measurements.Solve(budget);
            Assert.True(plan.Memory.Total <= budget, $"planned {plan.Memory.Total} > budget {budget}");
            // The budget is used: no single tensor could switch to a better type in the bytes left over.
            long left = budget - plan.Memory.Total;
            foreach (var t in plan.Tensors.Where(t => t.Chosen))
                Assert.DoesNotContain(t.Candidates, c => c.Cost < t.Choice.Cost && c.Bytes - t.Bytes <= left);
            Assert.True(plan.TotalCost <= previousCost, "a larger budget gave a worse fit");
            previousCost = plan.TotalCost;

            string output = fixture.NewPath($"{name}-fit");
            ModelFitter.Write(fixture.Model(name), output, plan, FitFixture.Options(budget, matrix));
            Assert.Equal(plan.Memory.Weights, new FileInfo(output).Length);
            var actual = MemoryOf(output);
            Assert.Equal(plan.Memory.Total, actual.Total);
            Assert.True(actual.Total <= budget);
            using var file = GgufFile.Open(output);
            foreach (var t in plan.Tensors)
                Assert.Equal(t.Type, file.GetTensor(t.Name).Type);
        }
        Assert.True(previousCost < measurements.Solve(measurements.Minimum).TotalCost);
    }

    /// <summary>
    /// The claim: at the memory of llama.cpp's fixed mixes (quantized with the same importance matrix), the fitted
    /// model is no larger and its KL divergence from the original on held-back text is no worse.
    /// </summary>
    [Theory]
    [InlineData("llama8", FileType.Q4_K_M)]
    [InlineData("llama8", FileType.Q3_K_M)]
    [InlineData("stories260K", FileType.Q4_K_M)]
    [InlineData("stories260K", FileType.Q3_K_M)]
    public void AtAFixedMixSizeTheKlDivergenceIsNoWorse(string name, FileType mix)
    {
        var (matrix, measurements) = fixture.Measured(name);
        string source = fixture.Model(name);
        string mixed = fixture.NewPath($"{name}-{mix}");
        ModelQuantizer.Quantize(source, mixed, new QuantizeOptions { FileType = mix, Threads = FitFixture.Threads, Importance = matrix });
        long budget = MemoryOf(mixed).Total;

        var plan = measurements.Solve(budget);
        string fitted = fixture.NewPath($"{name}-fit-{mix}");
        ModelFitter.Write(source, fitted, plan, FitFixture.Options(budget, matrix));
        Assert.True(new FileInfo(fitted).Length <= new FileInfo(mixed).Length);

        using var original = LanguageModel.Load(source);
        using var a = LanguageModel.Load(mixed);
        using var b = LanguageModel.Load(fitted);
        var mixKl = FitEvaluation.Compare(original, a, fixture.HeldBack, FitFixture.Chunk, null, FitFixture.Threads);
        var fitKl = FitEvaluation.Compare(original, b, fixture.HeldBack, FitFixture.Chunk, null, FitFixture.Threads);
        Assert.True(fitKl.Mean <= mixKl.Mean, $"{name} at the {mix} size ({budget} bytes): fit KLD {fitKl.Mean:F6} > mix KLD {mixKl.Mean:F6}");
    }

    /// <summary>A Q8_0 KV cache takes 34/64 of the F16 one, and the bytes it frees go to the weights within the same budget.</summary>
    [Fact]
    public void AQuantizedCacheLeavesMoreForTheWeights()
    {
        var (matrix, measurements) = fixture.Measured("llama8");
        long budget = measurements.Minimum + 400_000;
        var f16 = measurements.Solve(budget);
        var q8 = ModelFitter.Plan(fixture.Llama8, FitFixture.Options(budget, matrix) with { CacheType = Runtime.KvCache.KvCacheType.Q8_0 });
        Assert.Equal(f16.Memory.KvCache * 34 / 64, q8.Memory.KvCache);
        Assert.True(q8.Memory.Total <= budget);
        Assert.True(q8.Memory.Weights > f16.Memory.Weights);
        string output = fixture.NewPath("q8cache");
        ModelFitter.Write(fixture.Llama8, output, q8, FitFixture.Options(budget, matrix));
        Assert.Equal(q8.Memory.Total, MemoryModel.ForFile(output, FitFixture.Context, FitFixture.Threads, 0, cacheType: Runtime.KvCache.KvCacheType.Q8_0).Total);
    }

    [Fact]
    public void ABudgetBelowTheMinimumFailsFirstAndWritesNothing()
    {
        var minimum = ModelFitter.Plan(FitFixture.Stories260K, FitFixture.Options(long.MaxValue / 4)).Minimum;
        string output = fixture.NewPath("too-small");
        var before = Directory.GetFiles(fixture.Folder).Length;
        var e = Assert.Throws<FitException>(() => ModelFitter.Fit(FitFixture.Stories260K, output, FitFixture.Options(minimum - 1)));
        Assert.Contains($"{minimum} bytes", e.Message);
        Assert.Contains("too small", e.Message);
        Assert.False(File.Exists(output));
        Assert.Equal(before, Directory.GetFiles(fixture.Folder).Length);

        // The minimum itself is met, with the cheapest type everywhere.
        var (plan, _) = ModelFitter.Fit(FitFixture.Stories260K, output, FitFixture.Options(minimum));
        Assert.True(plan.Memory.Total <= minimum);
        Assert.All(plan.Tensors.Where(t => t.Chosen), t => Assert.Equal(t.Candidates.Min(c => c.Bytes), t.Bytes));
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void RefusesBadInputWithoutWriting()
    {
        string output = fixture.NewPath("bad");
        string notGguf = Path.Combine(fixture.Folder, "not-a-model.gguf");
        File.WriteAllText(notGguf, "this is not a GGUF file");
        Assert.Throws<GgufFormatException>(() => ModelFitter.Fit(notGguf, output, FitFixture.Options(1 << 30)));
        var e = Assert.Throws<FitException>(() => ModelFitter.Fit(FitFixture.Stories260K, output,
            FitFixture.Options(1 << 30) with { AllowedTypes = [Numerics.Quants.GgmlType.Q4_K] }));
        Assert.Contains("rows of 64", e.Message);
        Assert.Throws<FitException>(() => ModelFitter.Fit(FitFixture.Stories260K, output, FitFixture.Options(1 << 30) with { Sensitivity = SensitivityModel.Measured }));
        Assert.Throws<FitException>(() => ModelFitter.Fit(FitFixture.Stories260K, FitFixture.Stories260K, FitFixture.Options(1 << 30)));
        // A plan written with other options than it was made with (here: without its importance matrix) would not be the planned size.
        var (_, measurements) = fixture.Measured("stories260K");
        var plan = measurements.Solve(measurements.Minimum + 100_000);
        e = Assert.Throws<FitException>(() => ModelFitter.Write(FitFixture.Stories260K, output, plan, FitFixture.Options(plan.Budget)));
        Assert.Contains("planned", e.Message);
        Assert.False(File.Exists(output));
    }

    /// <summary>A fitted stories260K loads and generates the same greedy story as the original for its first words.</summary>
    [Fact]
    public void TheFittedModelLoadsAndGenerates()
    {
        var (matrix, measurements) = fixture.Measured("stories260K");
        long largest = measurements.FixedMemory.Total + measurements.Tensors.Where(t => t.Chosen).Sum(t => t.Candidates.Max(c => c.Bytes));
        var plan = measurements.Solve((measurements.Minimum + largest) / 2);
        string output = fixture.NewPath("generate");
        ModelFitter.Write(FitFixture.Stories260K, output, plan, FitFixture.Options(plan.Budget, matrix));

        static List<int> Greedy(LanguageModel model, int count)
        {
            var session = model.CreateSession(new SessionOptions { ContextLength = FitFixture.Context, Threads = FitFixture.Threads });
            var logits = session.Evaluate(model.Tokenizer.Encode("Once upon a time", addSpecial: true, parseSpecial: false)).ToArray();
            var tokens = new List<int>();
            for (int i = 0; i < count; i++)
            {
                Assert.All(logits, v => Assert.True(float.IsFinite(v)));
                int next = Array.IndexOf(logits, logits.Max());
                tokens.Add(next);
                logits = session.Evaluate([next]).ToArray();
            }
            return tokens;
        }
        using var original = LanguageModel.Load(FitFixture.Stories260K);
        using var fitted = LanguageModel.Load(output);
        var expected = Greedy(original, 12);
        var actual = Greedy(fitted, 12);
        Assert.Equal(expected.Take(6), actual.Take(6));
        Assert.False(string.IsNullOrWhiteSpace(fitted.Tokenizer.Decode(actual)));
    }

    /// <summary>
    /// A model whose output shares the embedding (no output.weight): token_embd is one tensor with one type, its measured
    /// sensitivity covers both uses, and the result runs.
    /// </summary>
    [Fact]
    public void TiedEmbeddingsAreFittedAsOneTensor()
    {
        string path = fixture.NewPath("tied");
        using (var vocab = GgufFile.Open(FitFixture.Stories260K))
        {
            Runtime.Synthesis.ModelSynthesizer.Write(path, new Runtime.Synthesis.SynthesisOptions
            {
                Architecture = "llama", EmbeddingLength = 256, BlockCount = 2, HeadCount = 4, KeyValueHeadCount = 2, FeedForwardLength = 256,
                StandardDeviation = 0.1f, Seed = 11, ContextLength = 256, Type = Numerics.Quants.GgmlType.F16, TiedEmbeddings = true,
            }, vocab.MetadataInOrder);
        }
        using var original = LanguageModel.Load(path);
        var tokens = original.Tokenizer.Encode(fixture.Calibration, addSpecial: true, parseSpecial: false);
        var measurements = ModelFitter.Measure(path, FitFixture.Options(1, sensitivity: SensitivityModel.Measured, calibration: tokens));
        Assert.DoesNotContain(measurements.Tensors, t => t.Name == "output.weight");
        var embedding = measurements.Tensors.Single(t => t.Name == "token_embd.weight");
        Assert.True(embedding.Chosen);
        Assert.True(embedding.Sensitivity > 0);

        long largest = measurements.FixedMemory.Total + measurements.Tensors.Where(t => t.Chosen).Sum(t => t.Candidates.Max(c => c.Bytes));
        var plan = measurements.Solve((measurements.Minimum + largest) / 2);
        string output = fixture.NewPath("tied-fit");
        ModelFitter.Write(path, output, plan, FitFixture.Options(plan.Budget));
        Assert.True(MemoryOf(output).Total <= plan.Budget);
        using var fitted = LanguageModel.Load(output);
        var k = FitEvaluation.Compare(original, fitted, fixture.HeldBack, FitFixture.Chunk, 2, FitFixture.Threads);
        Assert.InRange(k.Mean, 0, 1);
    }
}
