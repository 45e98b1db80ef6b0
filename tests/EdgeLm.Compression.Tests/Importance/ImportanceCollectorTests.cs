using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Evaluation;
using EdgeLm.Compression.Quantization;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime;
using EdgeLm.Testing;
using Xunit.Abstractions;

namespace EdgeLm.Compression.Tests.Importance;

/// <summary>
/// The importance matrix of stories260K over tests/fixtures/corpora/tinystories-sample.txt: the first 1152 tokens
/// calibrate (9 chunks of 128), the remaining ~700 are held back to measure what the matrix buys.
/// </summary>
public sealed class ImportanceCollectorTests(ITestOutputHelper log) : IDisposable
{
    private const int Context = 128, CalibrationTokens = 9 * Context;

    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-imatrix-kld-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static int[] SampleTokens(LanguageModel model) =>
        model.Tokenizer.Encode(File.ReadAllText(RepoPaths.Fixture("corpora", "tinystories-sample.txt")), addSpecial: true, parseSpecial: false);

    [Fact]
    public void CollectsEveryBlockMatrixWithItsTokenCount()
    {
        using var model = LanguageModel.Load(RepoPaths.Stories260K);
        var tokens = SampleTokens(model);
        var m = ImportanceCollector.Collect(model, tokens[..CalibrationTokens], new ImportanceOptions { ContextLength = Context, Threads = 2, Dataset = "sample" });
        Assert.Equal(5 * 7, m.Count);
        Assert.Equal(9, m.ChunkCount);
        Assert.Equal(Context, m.ChunkSize);
        Assert.Null(m.Find("output.weight"));
        foreach (var e in m.Entries)
        {
            var weight = model.File.GetTensor(e.Name);
            Assert.Equal(weight.RowLength, e.ColumnCount);
            Assert.Equal([(float)CalibrationTokens], e.Counts);
            Assert.All(e.SumOfSquares, v => Assert.True(v > 0, $"{e.Name}: a column no token reached"));
        }
        // q, k and v read the same normalized input; so do gate and up.
        Assert.Equal(m.Find("blk.3.attn_q.weight")!.SumOfSquares, m.Find("blk.3.attn_v.weight")!.SumOfSquares);
        Assert.Equal(m.Find("blk.3.ffn_gate.weight")!.SumOfSquares, m.Find("blk.3.ffn_up.weight")!.SumOfSquares);
        Assert.NotEqual(m.Find("blk.3.attn_q.weight")!.SumOfSquares, m.Find("blk.3.ffn_up.weight")!.SumOfSquares);
        Assert.Equal(172, m.Find("blk.0.ffn_down.weight")!.ColumnCount);

        var withOutput = ImportanceCollector.Collect(model, tokens[..(2 * Context)], new ImportanceOptions { ContextLength = Context, Threads = 2, IncludeOutput = true });
        Assert.Equal([(float)(2 * Context)], withOutput.Find("output.weight")!.Counts);
    }

    /// <summary>
    /// Block 0's attention input is RMSNorm(embedding) * attn_norm, computable straight from the file: the collected
    /// sums for attn_q must equal that, summed over the chunk tokens (with BOS first).
    /// </summary>
    [Fact]
    public void TheFirstBlocksSumsMatchAComputationFromTheWeights()
    {
        using var model = LanguageModel.Load(RepoPaths.Stories260K);
        var tokens = SampleTokens(model)[..(2 * Context)];
        var m = ImportanceCollector.Collect(model, tokens, new ImportanceOptions { ContextLength = Context, Threads = 1 });

        var file = model.File;
        var embedding = file.GetTensor("token_embd.weight");
        int E = (int)embedding.RowLength;
        var table = new float[embedding.ElementCount];
        Dequantize.Row(embedding.Type, file.GetTensorBytes(embedding), table);
        var norm = new float[E];
        Dequantize.Row(GgmlType.F32, file.GetTensorBytes(file.GetTensor("blk.0.attn_norm.weight")), norm);
        double eps = file.GetNumber(GgufKeys.AttentionLayerNormRmsEpsilon("llama"));
        var expected = new double[E];
        for (int i = 0; i < tokens.Length; i++)
        {
            int token = i % Context == 0 ? model.Tokenizer.BosId : tokens[i];
            var x = table.AsSpan(token * E, E);
            double ms = 0;
            foreach (float v in x)
                ms += v * (double)v;
            double scale = 1 / Math.Sqrt(ms / E + eps);
            for (int j = 0; j < E; j++)
            {
                double y = x[j] * scale * norm[j];
                expected[j] += y * y;
            }
        }
        var got = m.Find("blk.0.attn_q.weight")!.SumOfSquares;
        for (int j = 0; j < E; j++)
            Assert.True(Math.Abs(got[j] - expected[j]) <= 1e-4 * expected[j], $"column {j}: {got[j]} vs {expected[j]}");
    }

    /// <summary>
    /// What the importance matrix is for: quantized with it, stories260K's next-token distributions on text it was
    /// not computed from stay closer to the F32 model's (lower mean KL divergence), for Q3_K_M and for Q4_0 (with
    /// ffn_down kept in F16, as its 172-wide rows fit no Q4_0 block).
    /// </summary>
    [Theory]
    [InlineData("Q3_K_M", null)]
    [InlineData("Q4_0", "ffn_down")]
    public void TheImportanceMatrixLowersKlDivergenceOnHeldBackText(string type, string? keepInF16)
    {
        using var reference = LanguageModel.Load(RepoPaths.Stories260K);
        var tokens = SampleTokens(reference);
        var matrix = ImportanceCollector.Collect(reference, tokens[..CalibrationTokens], new ImportanceOptions { ContextLength = Context, Threads = 2 });
        var heldBack = tokens[CalibrationTokens..];
        Assert.True(heldBack.Length >= 4 * Context, $"only {heldBack.Length} held-back tokens");

        Assert.True(FileTypes.TryParse(type, out var fileType));
        TensorTypeOverride[] overrides = keepInF16 is null ? [] : [new TensorTypeOverride(keepInF16, GgmlType.F16)];
        string plain = Path.Combine(_folder, "plain.gguf"), weighted = Path.Combine(_folder, "weighted.gguf");
        ModelQuantizer.Quantize(RepoPaths.Stories260K, plain, new QuantizeOptions { FileType = fileType, Threads = 2, TensorTypes = overrides });
        ModelQuantizer.Quantize(RepoPaths.Stories260K, weighted, new QuantizeOptions { FileType = fileType, Threads = 2, TensorTypes = overrides, Importance = matrix });

        double without = MeanKl(reference, plain, heldBack), with = MeanKl(reference, weighted, heldBack);
        log.WriteLine($"{type}: mean KL without imatrix {without:E4}, with {with:E4} ({(1 - with / without):P1} lower)");
        Assert.True(with < without, $"{type}: KL with the importance matrix {with:E4} is not below {without:E4}");
    }

    /// <summary>Mean KL(F32 || quantized) over every position of the held-back chunks (each starting with BOS).</summary>
    private static double MeanKl(LanguageModel reference, string quantizedPath, int[] tokens)
    {
        using var quantized = LanguageModel.Load(quantizedPath);
        int V = reference.HyperParameters.VocabularySize;
        var a = reference.CreateSession(new() { ContextLength = Context, Threads = 2 });
        var b = quantized.CreateSession(new() { ContextLength = Context, Threads = 2 });
        var la = new float[Context * V];
        var lb = new float[Context * V];
        double sum = 0;
        int count = 0;
        for (int start = 0; start + Context <= tokens.Length; start += Context)
        {
            var chunk = tokens[start..(start + Context)];
            chunk[0] = reference.Tokenizer.BosId;
            a.Reset();
            b.Reset();
            a.EvaluateAll(chunk, la);
            b.EvaluateAll(chunk, lb);
            for (int t = 0; t < Context; t++, count++)
                sum += KlDivergence.Compute(la.AsSpan(t * V, V), lb.AsSpan(t * V, V));
        }
        return sum / count;
    }
}
