using EdgeLm.Numerics.Quants;
using EdgeLm.Testing;

namespace EdgeLm.Gguf.Tests;

public class ReadingTests
{
    public static TheoryData<string> VocabFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(RepoPaths.Fixture("vocab"), "*.gguf").OrderBy(f => f, StringComparer.Ordinal))
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void Stories260KHeaderAndHyperParameters()
    {
        using var file = GgufFile.Open(RepoPaths.Stories260K);
        Assert.Equal(3u, file.Version);
        Assert.Equal(32, file.Alignment);
        Assert.Equal(0, file.DataOffset % 32);
        Assert.Equal("llama", file.GetString(GgufKeys.GeneralArchitecture));
        Assert.Equal(64, file.GetInteger(GgufKeys.EmbeddingLength("llama")));
        Assert.Equal(5, file.GetInteger(GgufKeys.BlockCount("llama")));
        Assert.Equal(8, file.GetInteger(GgufKeys.AttentionHeadCount("llama")));
        Assert.Equal(4, file.GetInteger(GgufKeys.AttentionHeadCountKv("llama")));
        Assert.Equal(172, file.GetInteger(GgufKeys.FeedForwardLength("llama")));
        Assert.Equal(2048, file.GetInteger(GgufKeys.ContextLength("llama")));
        Assert.Equal("llama", file.GetString(GgufKeys.TokenizerModel));
        Assert.Equal(512, file.GetArray(GgufKeys.TokenizerTokens).Count);
        Assert.Equal(file.MetadataInOrder.Count, file.Metadata.Count);
    }

    [Fact]
    public void Stories260KTensorsAreTheLlamaTable()
    {
        using var file = GgufFile.Open(RepoPaths.Stories260K);
        Assert.Equal(48, file.Tensors.Count);
        Assert.All(file.Tensors, t => Assert.Equal(GgmlType.F32, t.Type));

        var embd = file.GetTensor(TensorNames.Weight(TensorNames.TokenEmbedding));
        Assert.Equal(new long[] { 64, 512 }, embd.Dimensions);
        Assert.Equal(64L * 512 * 4, embd.ByteSize);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(new long[] { 64, 64 }, file.GetTensor(TensorNames.Weight(TensorNames.AttentionQuery(i))).Dimensions);
            Assert.Equal(new long[] { 64, 32 }, file.GetTensor(TensorNames.Weight(TensorNames.AttentionKey(i))).Dimensions);
            Assert.Equal(new long[] { 64, 32 }, file.GetTensor(TensorNames.Weight(TensorNames.AttentionValue(i))).Dimensions);
            Assert.Equal(new long[] { 64, 172 }, file.GetTensor(TensorNames.Weight(TensorNames.FeedForwardGate(i))).Dimensions);
            Assert.Equal(new long[] { 172, 64 }, file.GetTensor(TensorNames.Weight(TensorNames.FeedForwardDown(i))).Dimensions);
            Assert.Equal(new long[] { 64 }, file.GetTensor(TensorNames.Weight(TensorNames.AttentionNorm(i))).Dimensions);
        }

        // Every tensor lies inside the file, aligned, and the data section ends at the file's end (last tensor padded).
        long end = 0;
        foreach (var t in file.Tensors)
        {
            Assert.Equal(file.DataOffset + t.Offset, t.FileOffset);
            Assert.Equal(0, t.Offset % file.Alignment);
            Assert.Equal(t.ByteSize, file.GetTensorBytes(t).Length);
            end = Math.Max(end, t.FileOffset + t.ByteSize);
        }
        Assert.True(end <= file.Length);
    }

    [Fact]
    public void Stories260KNormWeightsAreFiniteFloats()
    {
        using var file = GgufFile.Open(RepoPaths.Stories260K);
        var norm = file.GetTensor(TensorNames.Weight(TensorNames.OutputNorm));
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(norm));
        Assert.Equal(64, floats.Length);
        foreach (var f in floats)
            Assert.True(float.IsFinite(f) && f != 0);
    }

    [Theory]
    [MemberData(nameof(VocabFiles))]
    public void VocabFixtureReads(string name)
    {
        using var file = GgufFile.Open(RepoPaths.Fixture("vocab", name));
        Assert.Equal(3u, file.Version);
        Assert.Empty(file.Tensors);
        // Without tensors the data section starts right where the header ends: the end of the file.
        Assert.Equal(file.Length, file.DataOffset);
        var tokens = file.GetArray(GgufKeys.TokenizerTokens);
        Assert.Equal(GgufValueType.String, tokens.ElementType);
        Assert.True(tokens.Count > 1000);
        var strings = tokens.AsStrings();
        Assert.Equal(tokens.Count, strings.Length);
        Assert.Equal(strings[0], tokens.GetString(0));
        Assert.Equal(strings[^1], tokens[tokens.Count - 1].AsString());
        Assert.NotNull(file.GetStringOrNull(GgufKeys.TokenizerModel));
        if (file.TryGetValue(GgufKeys.TokenizerTokenType, out var types))
            Assert.Equal(tokens.Count, types.AsArray().AsInt32s().Length);
        if (file.TryGetValue(GgufKeys.TokenizerScores, out var scores))
            Assert.Equal(tokens.Count, scores.AsArray().AsFloat32s().Length);
        long? bos = file.GetIntegerOrNull(GgufKeys.TokenizerBosTokenId);
        if (bos is not null)
            Assert.InRange(bos.Value, 0, tokens.Count - 1);
    }

    [Fact]
    public void LlamaSpmVocabHasKnownTokens()
    {
        using var file = GgufFile.Open(RepoPaths.Fixture("vocab", "ggml-vocab-llama-spm.gguf"));
        Assert.Equal("llama", file.GetString(GgufKeys.TokenizerModel));
        var tokens = file.GetArray(GgufKeys.TokenizerTokens);
        Assert.Equal(32000, tokens.Count);
        Assert.Equal("<unk>", tokens.GetString(0));
        Assert.Equal("<s>", tokens.GetString(1));
        Assert.Equal("</s>", tokens.GetString(2));
        Assert.Equal("<0x00>", tokens.GetString(3));
        Assert.Equal(1, file.GetInteger(GgufKeys.TokenizerBosTokenId));
        Assert.Equal(2, file.GetInteger(GgufKeys.TokenizerEosTokenId));
    }

    [Fact]
    public void AccessorsNameTheKeyOnWrongTypeOrMissingKey()
    {
        using var file = GgufFile.Open(RepoPaths.Stories260K);
        var e = Assert.Throws<GgufFormatException>(() => file.GetString(GgufKeys.BlockCount("llama")));
        Assert.Contains("llama.block_count", e.Message);
        Assert.Equal("llama.block_count", e.Field);
        e = Assert.Throws<GgufFormatException>(() => file.GetInteger("no.such.key"));
        Assert.Contains("missing key 'no.such.key'", e.Message);
        e = Assert.Throws<GgufFormatException>(() => file.GetTensor("no_such_tensor.weight"));
        Assert.Contains("no_such_tensor.weight", e.Message);
        Assert.Null(file.FindTensor("no_such_tensor.weight"));
        Assert.Null(file.GetIntegerOrNull("no.such.key"));
        Assert.True(file.GetBoolOrDefault("no.such.key", true));
        Assert.Throws<GgufFormatException>(() => file.GetBoolOrDefault(GgufKeys.GeneralArchitecture, false));
    }
}
