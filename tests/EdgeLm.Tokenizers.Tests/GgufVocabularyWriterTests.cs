using EdgeLm.Gguf;
using EdgeLm.Tokenizers.Tests.Support;

namespace EdgeLm.Tokenizers.Tests;

/// <summary>A Hugging Face vocabulary written as GGUF metadata must build a tokenizer that encodes identically.</summary>
public sealed class GgufVocabularyWriterTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-vocab-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("llama3", "llama-bpe")]
    [InlineData("qwen3", "qwen2")]
    public void HuggingFaceVocabularyRoundTripsThroughGguf(string package, string vectors)
    {
        var vocabulary = TokenizerVocabulary.FromHuggingFace(TestTokenizers.HuggingFaceFile(package, "tokenizer.json"));
        var writer = new GgufWriter();
        foreach (var (key, value) in vocabulary.ToGgufMetadata())
            writer.SetMetadata(key, value);
        string path = Path.Combine(_folder, $"{package}.gguf");
        writer.Write(path);

        var direct = Tokenizer.FromVocabulary(vocabulary);
        using var file = GgufFile.Open(path);
        var viaGguf = Tokenizer.FromGguf(file);
        Assert.Equal(direct.VocabularySize, viaGguf.VocabularySize);
        Assert.Equal(direct.BosId, viaGguf.BosId);
        Assert.Equal(direct.EosId, viaGguf.EosId);
        Assert.Equal(direct.AddBos, viaGguf.AddBos);
        foreach (var vector in VocabVectors.Load(vectors))
            Assert.Equal(direct.Encode(vector.Text, addSpecial: true, parseSpecial: true), viaGguf.Encode(vector.Text, addSpecial: true, parseSpecial: true));
    }
}
