using EdgeLm.Gguf;
using EdgeLm.Testing;

namespace EdgeLm.Runtime.Tests.Architectures;

/// <summary>
/// Files that are valid GGUF but not a runnable model: each must fail with a ModelFormatException that names
/// the problem, before any forward pass.
/// </summary>
public sealed class ModelValidationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-model-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Rewrites stories260K with a change: metadata edits, and tensors dropped or replaced.</summary>
    private string Variant(Action<GgufWriter> editMetadata, Func<GgufTensorInfo, bool>? keepTensor = null,
        (string Name, long[] Dims)? replace = null)
    {
        string path = Path.Combine(_folder, $"{Guid.NewGuid():N}.gguf");
        using var source = GgufFile.Open(RepoPaths.Stories260K);
        var writer = new GgufWriter();
        foreach (var (key, value) in source.MetadataInOrder)
            writer.SetMetadata(key, value);
        editMetadata(writer);
        foreach (var t in source.Tensors)
        {
            if (keepTensor is not null && !keepTensor(t))
                continue;
            if (replace is { } r && r.Name == t.Name)
            {
                long elements = r.Dims.Aggregate(1L, (a, b) => a * b);
                writer.AddTensor(t.Name, t.Type, r.Dims, new byte[elements * 4]);
                continue;
            }
            writer.AddTensor(t.Name, t.Type, t.Dimensions, source.GetTensorBytes(t).ToArray());
        }
        writer.Write(path);
        return path;
    }

    private static ModelFormatException Refused(string path) => Assert.Throws<ModelFormatException>(() => LanguageModel.Load(path).Dispose());

    [Fact]
    public void AnUnknownArchitectureIsNamed()
    {
        string path = Variant(w =>
        {
            w.SetMetadata(GgufKeys.GeneralArchitecture, GgufValue.From("mamba"));
        });
        Assert.Contains("mamba", Refused(path).Message);
    }

    [Fact]
    public void AMissingTensorIsNamed()
    {
        string path = Variant(_ => { }, t => t.Name != "blk.3.ffn_up.weight");
        Assert.Contains("blk.3.ffn_up.weight", Refused(path).Message);
    }

    [Fact]
    public void ATensorOfTheWrongShapeIsNamed()
    {
        string path = Variant(_ => { }, replace: ("blk.0.attn_k.weight", [64L, 64L]));
        var e = Refused(path);
        Assert.Contains("blk.0.attn_k.weight", e.Message);
        Assert.Contains("32", e.Message);
    }

    [Fact]
    public void AMissingHyperParameterIsNamed()
    {
        string path = Variant(w => w.RemoveMetadata("llama.embedding_length"));
        Assert.Contains("llama.embedding_length", Refused(path).Message);
    }

    [Theory]
    [InlineData("llama.attention.head_count", 0u)]
    [InlineData("llama.attention.head_count_kv", 3u)]
    [InlineData("llama.block_count", 4_000_000_000u)]
    public void OutOfRangeHyperParametersAreNamed(string key, uint value)
    {
        string path = Variant(w => w.SetMetadata(key, GgufValue.From(value)));
        Assert.Throws<ModelFormatException>(() => LanguageModel.Load(path).Dispose());
    }

    [Fact]
    public void AnUnsupportedRopeScalingIsRefused()
    {
        string path = Variant(w => w.SetMetadata("llama.rope.scaling.type", GgufValue.From("yarn")));
        Assert.Contains("yarn", Refused(path).Message);
    }

    [Fact]
    public void AVocabularyOnlyFileIsNotAModel()
    {
        var e = Assert.ThrowsAny<Exception>(() => LanguageModel.Load(RepoPaths.Fixture("vocab", "ggml-vocab-gpt-2.gguf")).Dispose());
        Assert.True(e is ModelFormatException, e.ToString());
    }

    [Fact]
    public void ATruncatedFileIsAGgufFormatException()
    {
        string path = Path.Combine(_folder, "truncated.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(RepoPaths.Stories260K)[..50_000]);
        Assert.Throws<GgufFormatException>(() => LanguageModel.Load(path).Dispose());
    }
}
