using System.Text;
using EdgeLm.Tokenizers.Tests.Support;

namespace EdgeLm.Tokenizers.Tests;

/// <summary>
/// Encoding then decoding gives the input back where the tokenizer is lossless. What is asserted, per kind:
/// <list type="bullet">
/// <item>Byte-level BPE: the joined <see cref="Tokenizer.TokenBytes"/> are exactly the input's UTF-8, for every input.
/// <see cref="Tokenizer.Decode(ReadOnlySpan{int}, bool)"/> gives the input back exactly when the vocabulary does no
/// space clean-up (Qwen2), and otherwise for every input that contains none of the clean-up patterns.</item>
/// <item>SentencePiece with byte fallback and add_space_prefix: the joined bytes are " " + input (the added prefix
/// space) for a non-empty input, and Decode, which removes that one leading space, gives the input back exactly.</item>
/// </list>
/// WordPiece lowercases and drops accents and spacing, so it is not lossless; see <see cref="WordPieceTests"/>.
/// </summary>
public sealed class RoundTripTests
{
    public static TheoryData<string> ByteLevelNames => ["gpt-2", "falcon", "starcoder", "llama-bpe", "qwen2"];

    public static TheoryData<string> SentencePieceNames => ["llama-spm", "phi-3"];

    private static readonly string[] s_cleanUpTriggers = [" ?", " !", " .", " ,", " ' ", " 's", " 'm", " 're", " 've"];

    [Theory]
    [MemberData(nameof(ByteLevelNames))]
    public void ByteLevelBytesRoundTripEveryVector(string name)
    {
        var tokenizer = TestTokenizers.Get(name);
        foreach (var vector in VocabVectors.Load(name))
        {
            int[] ids = tokenizer.Encode(vector.Text, addSpecial: false, parseSpecial: false);
            byte[] joined = [.. ids.SelectMany(tokenizer.TokenBytes)];
            Assert.True(Encoding.UTF8.GetBytes(vector.Text).AsSpan().SequenceEqual(joined),
                $"{name} #{vector.Index} '{VocabVectors.Show(vector.Text)}' bytes do not round-trip");
        }
    }

    [Theory]
    [MemberData(nameof(ByteLevelNames))]
    public void ByteLevelDecodeRoundTripsWhereNoCleanUpApplies(string name)
    {
        var tokenizer = TestTokenizers.Get(name);
        int checkedCount = 0;
        foreach (var vector in VocabVectors.Load(name))
        {
            if (tokenizer.CleansUpSpaces && s_cleanUpTriggers.Any(t => vector.Text.Contains(t, StringComparison.Ordinal)))
                continue;
            checkedCount++;
            int[] ids = tokenizer.Encode(vector.Text, addSpecial: false, parseSpecial: false);
            Assert.Equal(vector.Text, tokenizer.Decode(ids));
        }
        Assert.True(checkedCount >= 40, $"only {checkedCount} vectors were checked");
    }

    [Fact]
    public void QwenDoesNoCleanUpSoEveryVectorDecodesExactly()
    {
        Assert.False(TestTokenizers.Get("qwen2").CleansUpSpaces);
        Assert.True(TestTokenizers.Get("llama-bpe").CleansUpSpaces);
        Assert.True(TestTokenizers.Get("gpt-2").CleansUpSpaces);
    }

    [Theory]
    [MemberData(nameof(SentencePieceNames))]
    public void SentencePieceRoundTripsEveryVector(string name)
    {
        var tokenizer = TestTokenizers.Get(name);
        foreach (var vector in VocabVectors.Load(name))
        {
            int[] ids = tokenizer.Encode(vector.Text, addSpecial: false, parseSpecial: false);
            Assert.Equal(vector.Text, tokenizer.Decode(ids));

            byte[] joined = [.. ids.SelectMany(tokenizer.TokenBytes)];
            string expected = vector.Text.Length == 0 ? "" : " " + vector.Text;
            Assert.Equal(expected, Encoding.UTF8.GetString(joined));
        }
    }

    [Fact]
    public void DecodeCleansSpacesLikeLlamaCppWhenTheVocabularyAsks()
    {
        var gpt2 = TestTokenizers.Get("gpt-2");
        int[] ids = gpt2.Encode("Hello , world ! It 's a ' quote' , ok .", addSpecial: false);
        Assert.Equal("Hello, world! It's a'quote', ok.", gpt2.Decode(ids));
        // The bytes themselves are untouched.
        Assert.Equal("Hello , world ! It 's a ' quote' , ok .", Encoding.UTF8.GetString([.. ids.SelectMany(gpt2.TokenBytes)]));
    }
}
