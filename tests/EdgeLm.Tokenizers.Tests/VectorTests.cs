using EdgeLm.Tokenizers.Tests.Support;

namespace EdgeLm.Tokenizers.Tests;

/// <summary>
/// llama.cpp's tokenizer vectors (tests/fixtures/vocab/*.inp/.out): every input must give exactly llama.cpp's ids,
/// tokenized as test-tokenizer-0 does it (no BOS/EOS, special tokens not parsed).
/// </summary>
public sealed class VectorTests
{
    public static TheoryData<string> AllNames => [.. TestTokenizers.GgufNames, .. TestTokenizers.HuggingFaceNames];

    [Theory]
    [MemberData(nameof(AllNames))]
    public void EveryVectorGivesLlamaCppIds(string name)
    {
        var tokenizer = TestTokenizers.Get(name);
        var vectors = VocabVectors.Load(name);
        Assert.NotEmpty(vectors);

        var failures = new List<string>();
        foreach (var vector in vectors)
        {
            int[] ids = tokenizer.Encode(vector.Text, addSpecial: false, parseSpecial: false);
            if (!ids.SequenceEqual(vector.Ids))
                failures.Add($"#{vector.Index} '{VocabVectors.Show(vector.Text)}'\n  expected {string.Join(' ', vector.Ids)}\n  actual   {string.Join(' ', ids)}");
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} of {vectors.Count} vectors differ:\n{string.Join('\n', failures)}");
    }
}
