using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Quantization;
using EdgeLm.Conformance.Tests.Oracle;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using Xunit.Abstractions;

namespace EdgeLm.Conformance.Tests.Quantization;

/// <summary>
/// Our quantizer against llama.cpp's (llama_model_quantize, through LLamaSharp) on the same source file: the two
/// output files must be byte-identical, which covers every tensor's type (the mix rules and fallbacks), every
/// tensor's bytes (the quantizers), the tensor order and the metadata.
/// </summary>
[Collection(OracleCollection.Name)]
public class QuantizeConformanceTests(QuantizationModels models, ITestOutputHelper log) : IClassFixture<QuantizationModels>
{
    /// <summary>Every type name both tools accept.</summary>
    public static TheoryData<string> AllTypes() =>
    [
        "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "F16", "BF16",
    ];

    /// <summary>
    /// stories260K: rows of 64 and 172 weights. The k-quant mixes fall back (Q4_0/Q5_0/Q5_1/Q8_0/F16) exactly as
    /// llama.cpp does; the legacy types have no fallback for the 172-wide ffn_down and both tools refuse them.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Stories260KFilesEqualLlamaCpp(string type) => AssertSameAsLlamaCpp("stories260K", type, legacyMayFail: true);

    /// <summary>A random llama with 256-multiple rows, stored in F16: every type, every mix.</summary>
    [Theory]
    [MemberData(nameof(AllTypes))]
    public void SynthLlamaFilesEqualLlamaCpp(string type) => AssertSameAsLlamaCpp("llama8", type, legacyMayFail: false);

    /// <summary>A random qwen2 with tied embeddings (token_embd follows the output rules) and no grouped-query attention.</summary>
    [Theory]
    [InlineData("Q2_K")]
    [InlineData("Q3_K_M")]
    [InlineData("Q4_K_M")]
    [InlineData("Q4_0")]
    [InlineData("Q8_0")]
    public void SynthQwenFilesEqualLlamaCpp(string type) => AssertSameAsLlamaCpp("qwen4", type, legacyMayFail: false);

    /// <summary>
    /// With an importance matrix, llama.cpp switches to its weighted searches (quantize_row_*_impl) and, for Q4_0,
    /// raises the first ffn_down layers to Q4_1. Given the same importance values, our files equal its files.
    /// </summary>
    [Theory]
    [InlineData("llama8", "Q4_0")]
    [InlineData("llama8", "Q4_1")]
    [InlineData("llama8", "Q5_0")]
    [InlineData("llama8", "Q5_1")]
    [InlineData("llama8", "Q2_K")]
    [InlineData("llama8", "Q3_K_M")]
    [InlineData("llama8", "Q4_K_M")]
    [InlineData("llama8", "Q5_K_S")]
    [InlineData("llama8", "Q6_K")]
    public void ImportanceWeightedFilesEqualLlamaCpp(string model, string type)
    {
        string source = models.Get(model);
        var matrix = RandomImportance(source, seed: type.GetHashCode(StringComparison.Ordinal) & 0xFFFF);
        var values = matrix.Entries.ToDictionary(e => e.Name, e => e.MeanSquares());
        string theirs = models.NewPath($"llama-{model}-{type}-imatrix");
        string ours = models.NewPath($"edgelm-{model}-{type}-imatrix");
        LlamaCppQuantizer.Quantize(source, theirs, type, importance: values);
        Assert.True(FileTypes.TryParse(type, out var fileType));
        var report = ModelQuantizer.Quantize(source, ours, new QuantizeOptions { FileType = fileType, Threads = 2, Importance = matrix });
        AssertFilesEqual(theirs, ours, ignoreKeysOf: "quantize.imatrix.");
        // The importance changed the bytes: the reference quantizer (no importance) encodes this tensor differently.
        using (var file = GgufFile.Open(ours))
        using (var src = GgufFile.Open(source))
        {
            var q = file.GetTensor("blk.1.ffn_up.weight");
            var s = src.GetTensor(q.Name);
            var floats = new float[s.ElementCount];
            Dequantize.Row(s.Type, src.GetTensorBytes(s), floats);
            var reference = new byte[q.ByteSize];
            EdgeLm.Numerics.Quants.Quantize.Row(q.Type, floats, reference);
            Assert.False(reference.AsSpan().SequenceEqual(file.GetTensorBytes(q)), "the importance matrix made no difference");
        }
        log.WriteLine($"{model} {type} with imatrix: {report.BitsPerWeight:F3} bpw, {report.Elapsed.TotalMilliseconds:F0} ms");
    }

    /// <summary>--pure: one type everywhere, still with the fallbacks.</summary>
    [Theory]
    [InlineData("llama8", "Q3_K_M")]
    [InlineData("stories260K", "Q4_K_M")]
    public void PureFilesEqualLlamaCpp(string model, string type)
    {
        string source = models.Get(model);
        string theirs = models.NewPath("llama-pure"), ours = models.NewPath("edgelm-pure");
        LlamaCppQuantizer.Quantize(source, theirs, type, pure: true);
        Assert.True(FileTypes.TryParse(type, out var fileType));
        ModelQuantizer.Quantize(source, ours, new QuantizeOptions { FileType = fileType, Threads = 2, Pure = true });
        AssertFilesEqual(theirs, ours);
    }

    /// <summary>A file we wrote loads in llama.cpp and generates the same greedy text as llama.cpp's own quantization.</summary>
    [Theory]
    [InlineData("Q4_K_M")]
    public void OurFilesGenerateInLlamaCpp(string type)
    {
        string source = models.Get("stories260K");
        string ours = models.NewPath("edgelm-run"), theirs = models.NewPath("llama-run");
        Assert.True(FileTypes.TryParse(type, out var fileType));
        ModelQuantizer.Quantize(source, ours, new QuantizeOptions { FileType = fileType, Threads = 2 });
        LlamaCppQuantizer.Quantize(source, theirs, type);
        int[] ourTokens, theirTokens;
        using (var model = LlamaCppModel.Load(ours))
            ourTokens = model.GreedyGenerate(model.Tokenize("Once upon a time", addBos: true, parseSpecial: false), 32);
        using (var model = LlamaCppModel.Load(theirs))
            theirTokens = model.GreedyGenerate(model.Tokenize("Once upon a time", addBos: true, parseSpecial: false), 32);
        Assert.Equal(theirTokens, ourTokens);
        Assert.True(ourTokens.Distinct().Count() > 4, "the quantized model repeats one token: it did not really run");
    }

    private void AssertSameAsLlamaCpp(string model, string type, bool legacyMayFail)
    {
        string source = models.Get(model);
        string theirs = models.NewPath($"llama-{model}-{type}");
        string ours = models.NewPath($"edgelm-{model}-{type}");
        Exception? theirError = Record.Exception(() => LlamaCppQuantizer.Quantize(source, theirs, type));
        Assert.True(FileTypes.TryParse(type, out var fileType));
        Exception? ourError = Record.Exception(() => ModelQuantizer.Quantize(source, ours, new QuantizeOptions { FileType = fileType, Threads = 2 }));
        if (theirError is not null)
        {
            Assert.True(legacyMayFail, $"llama.cpp failed: {theirError.Message}");
            Assert.IsType<QuantizationException>(ourError);
            Assert.False(File.Exists(ours), "a failed quantization left a file");
            Assert.Contains("no tensor type fallback", theirError.Message);
            log.WriteLine($"both refuse {type}: {ourError!.Message}");
            return;
        }
        Assert.Null(ourError);
        AssertFilesEqual(theirs, ours);
    }

    /// <summary>Byte equality, with a per-tensor diagnosis when the files differ.</summary>
    private void AssertFilesEqual(string theirs, string ours, string? ignoreKeysOf = null)
    {
        byte[] a = File.ReadAllBytes(theirs), b = File.ReadAllBytes(ours);
        if (ignoreKeysOf is null && a.AsSpan().SequenceEqual(b))
            return;
        using var x = GgufFile.Open(theirs);
        using var y = GgufFile.Open(ours);
        var problems = new List<string>();
        var xKeys = x.MetadataInOrder.Where(k => ignoreKeysOf is null || !k.Key.StartsWith(ignoreKeysOf, StringComparison.Ordinal)).ToList();
        var yKeys = y.MetadataInOrder.Where(k => ignoreKeysOf is null || !k.Key.StartsWith(ignoreKeysOf, StringComparison.Ordinal)).ToList();
        if (!xKeys.Select(k => k.Key).SequenceEqual(yKeys.Select(k => k.Key)))
            problems.Add($"metadata keys differ: [{string.Join(",", xKeys.Select(k => k.Key))}] vs [{string.Join(",", yKeys.Select(k => k.Key))}]");
        foreach (var (kx, ky) in xKeys.Zip(yKeys))
        {
            if (kx.Key == ky.Key && !kx.Value.Equals(ky.Value))
                problems.Add($"metadata {kx.Key} differs");
        }
        Assert.Equal(x.Tensors.Select(t => t.Name), y.Tensors.Select(t => t.Name));
        foreach (var t in x.Tensors)
        {
            var u = y.GetTensor(t.Name);
            if (u.Type != t.Type)
                problems.Add($"{t.Name}: llama.cpp {t.Type}, ours {u.Type}");
            else if (!x.GetTensorBytes(t).SequenceEqual(y.GetTensorBytes(u)))
                problems.Add($"{t.Name} ({t.Type}): bytes differ");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        if (ignoreKeysOf is null)
            Assert.Fail("the files differ outside the metadata and tensors (layout or padding)");
    }

    /// <summary>Importance entries for every block matrix of a model: positive, spread over three orders of magnitude.</summary>
    internal static ImportanceMatrix RandomImportance(string modelPath, int seed)
    {
        var rng = new Random(seed);
        using var model = GgufFile.Open(modelPath);
        var entries = model.Tensors.Where(t => t.Name.StartsWith("blk.", StringComparison.Ordinal) && t.Rank == 2)
            .Select(t =>
            {
                var sums = new float[t.RowLength];
                for (int i = 0; i < sums.Length; i++)
                    sums[i] = 100f * MathF.Exp((float)(rng.NextDouble() * 7 - 3.5));
                return new ImportanceEntry(t.Name, sums, [100f]);
            });
        return new ImportanceMatrix(entries, ["random"], 1, 100);
    }
}
