using EdgeLm.Compression.Quantization;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Compression.Tests.Quantization;

/// <summary>
/// The per-tensor types of the mixes, worked out by hand from llama.cpp's rules for an 8-layer model with 4 query
/// heads per KV head: "more bits" layers are 0, 3, 6 and 7 (the first and last eighth, and every third layer between).
/// </summary>
public class TensorTypePlannerTests(TestModels models) : IClassFixture<TestModels>
{
    private Dictionary<string, GgmlType> Types(string model, FileType type, bool pure = false, params TensorTypeOverride[] overrides)
    {
        using var file = GgufFile.Open(model);
        return TensorTypePlanner.Plan(file, new QuantizeOptions { FileType = type, Pure = pure, TensorTypes = overrides })
            .ToDictionary(p => p.Name, p => p.TargetType);
    }

    private static readonly int[] MoreBitsLayers = [0, 3, 6, 7];

    [Fact]
    public void Q4KMRaisesAttnVAndFfnDownInTheMoreBitsLayersToQ6K()
    {
        var t = Types(models.Llama8, FileType.Q4_K_M);
        for (int b = 0; b < 8; b++)
        {
            var expected = MoreBitsLayers.Contains(b) ? GgmlType.Q6_K : GgmlType.Q4_K;
            Assert.Equal(expected, t[$"blk.{b}.attn_v.weight"]);
            Assert.Equal(expected, t[$"blk.{b}.ffn_down.weight"]);
            Assert.Equal(GgmlType.Q4_K, t[$"blk.{b}.attn_q.weight"]);
            Assert.Equal(GgmlType.Q4_K, t[$"blk.{b}.ffn_up.weight"]);
            Assert.Equal(GgmlType.F32, t[$"blk.{b}.attn_norm.weight"]);
        }
        Assert.Equal(GgmlType.Q6_K, t["output.weight"]);
        Assert.Equal(GgmlType.Q4_K, t["token_embd.weight"]);
        Assert.Equal(GgmlType.F32, t["output_norm.weight"]);
    }

    [Fact]
    public void Q2KUsesQ4KForAttnVWithGroupedQueriesAndQ3KForFfnDownAndAttnOutput()
    {
        var t = Types(models.Llama8, FileType.Q2_K);
        Assert.All(Enumerable.Range(0, 8), b =>
        {
            Assert.Equal(GgmlType.Q4_K, t[$"blk.{b}.attn_v.weight"]);
            Assert.Equal(GgmlType.Q3_K, t[$"blk.{b}.ffn_down.weight"]);
            Assert.Equal(GgmlType.Q3_K, t[$"blk.{b}.attn_output.weight"]);
            Assert.Equal(GgmlType.Q2_K, t[$"blk.{b}.ffn_gate.weight"]);
        });
        Assert.Equal(GgmlType.Q6_K, t["output.weight"]);
    }

    [Fact]
    public void Q3KMGivesTheFirstTwoAttnVQ5KAndTheRestQ4K()
    {
        var t = Types(models.Llama8, FileType.Q3_K_M);
        for (int b = 0; b < 8; b++)
        {
            Assert.Equal(b < 2 ? GgmlType.Q5_K : GgmlType.Q4_K, t[$"blk.{b}.attn_v.weight"]);
            Assert.Equal(GgmlType.Q4_K, t[$"blk.{b}.ffn_down.weight"]);
            Assert.Equal(GgmlType.Q4_K, t[$"blk.{b}.attn_output.weight"]);
            Assert.Equal(GgmlType.Q3_K, t[$"blk.{b}.attn_k.weight"]);
        }
    }

    [Fact]
    public void Q4_0KeepsOutputAtQ6KAndEverythingElseAtQ4_0()
    {
        var t = Types(models.Llama8, FileType.Q4_0);
        Assert.Equal(GgmlType.Q6_K, t["output.weight"]);
        Assert.All(t.Where(kv => kv.Key.StartsWith("blk.") && !kv.Key.Contains("norm")), kv => Assert.Equal(GgmlType.Q4_0, kv.Value));
    }

    [Fact]
    public void PureAndOverridesBypassTheMixRules()
    {
        var pure = Types(models.Llama8, FileType.Q4_K_M, pure: true);
        Assert.All(pure.Where(kv => !kv.Key.Contains("norm")), kv => Assert.Equal(GgmlType.Q4_K, kv.Value));
        var overridden = Types(models.Llama8, FileType.Q4_K_M, false, new TensorTypeOverride("ffn_down", GgmlType.Q8_0), new TensorTypeOverride("attn", GgmlType.Q5_0));
        Assert.Equal(GgmlType.Q8_0, overridden["blk.3.ffn_down.weight"]);
        Assert.Equal(GgmlType.Q5_0, overridden["blk.3.attn_v.weight"]);
        Assert.Equal(GgmlType.Q4_K, overridden["blk.3.ffn_up.weight"]);
    }

    /// <summary>stories260K's rows are 64 wide (172 for ffn_down): the k-quants fall back as llama.cpp's table says.</summary>
    [Fact]
    public void RowsThatTheBlockDoesNotDivideFallBack()
    {
        using var file = GgufFile.Open(TestModels.Stories260K);
        var plans = TensorTypePlanner.Plan(file, new QuantizeOptions { FileType = FileType.Q4_K_M }).ToDictionary(p => p.Name);
        Assert.Equal(GgmlType.Q5_0, plans["blk.1.attn_q.weight"].TargetType);          // Q4_K -> Q5_0
        // Five layers: attn_v gets Q6_K in layers 2 and 4 (use_more_bits), which falls back to Q8_0; the others Q4_K -> Q5_0.
        Assert.Equal(GgmlType.Q8_0, plans["blk.2.attn_v.weight"].TargetType);
        Assert.Equal(GgmlType.Q8_0, plans["blk.4.attn_v.weight"].TargetType);
        Assert.Equal(GgmlType.Q5_0, plans["blk.0.attn_v.weight"].TargetType);
        Assert.Equal(GgmlType.F16, plans["blk.0.ffn_down.weight"].TargetType);         // 172 % 32 != 0 -> F16
        Assert.Equal(GgmlType.Q8_0, plans["output.weight"].TargetType);                // output: rows not a multiple of 256 -> Q8_0
        Assert.True(plans["blk.1.attn_q.weight"].FellBack);
        Assert.False(plans["output.weight"].FellBack);
        var q3 = TensorTypePlanner.Plan(file, new QuantizeOptions { FileType = FileType.Q3_K_S }).ToDictionary(p => p.Name);
        Assert.Equal(GgmlType.Q4_0, q3["blk.2.ffn_gate.weight"].TargetType);           // Q3_K -> Q4_0
        var q5 = TensorTypePlanner.Plan(file, new QuantizeOptions { FileType = FileType.Q5_K_S }).ToDictionary(p => p.Name);
        Assert.Equal(GgmlType.Q5_1, q5["blk.2.ffn_gate.weight"].TargetType);           // Q5_K -> Q5_1
    }

    [Fact]
    public void ALegacyTypeThatCannotFitTheRowsIsRefused()
    {
        using var file = GgufFile.Open(TestModels.Stories260K);
        var e = Assert.Throws<QuantizationException>(() => TensorTypePlanner.Plan(file, new QuantizeOptions { FileType = FileType.Q8_0 }));
        Assert.Contains("ffn_down", e.Message);
        // Keeping ffn_down in F16 makes it possible.
        var plans = TensorTypePlanner.Plan(file, new QuantizeOptions { FileType = FileType.Q8_0, TensorTypes = [new("ffn_down", GgmlType.F16)] });
        Assert.Equal(GgmlType.F16, plans.Single(p => p.Name == "blk.4.ffn_down.weight").TargetType);
    }

    [Fact]
    public void TensorsComeInLlamaCppsOrder()
    {
        using var file = GgufFile.Open(models.Llama8);
        var names = TensorTypePlanner.Plan(file, new QuantizeOptions { FileType = FileType.Q8_0 }).Select(p => p.Name).ToList();
        Assert.Equal(["output.weight", "output_norm.weight", "token_embd.weight", "blk.0.attn_k.weight"], names.Take(4));
        Assert.Equal("blk.7.ffn_up.weight", names[^1]);
        Assert.True(names.IndexOf("blk.7.attn_k.weight") > names.IndexOf("blk.6.ffn_up.weight"));
    }

    [Theory]
    [InlineData("q4_k", FileType.Q4_K_M)]
    [InlineData("Q3_K", FileType.Q3_K_M)]
    [InlineData("Q5_K", FileType.Q5_K_M)]
    [InlineData("q8_0", FileType.Q8_0)]
    [InlineData("Q2_K_S", FileType.Q2_K_S)]
    public void TypeNamesFollowLlamaQuantize(string name, FileType expected)
    {
        Assert.True(FileTypes.TryParse(name, out var type));
        Assert.Equal(expected, type);
        Assert.False(FileTypes.TryParse("IQ2_XS", out _));
        Assert.False(FileTypes.TryParse("Q4", out _));
    }
}
