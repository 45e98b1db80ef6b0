using System.Text;
using EdgeLm.Testing;
using EdgeLm.Tokenizers.Tests.Support;

namespace EdgeLm.Tokenizers.Tests;

/// <summary>Loading from GGUF and tokenizer.json, the bundled model's tokenizer, token bytes, and bad input.</summary>
public sealed class LoadingTests
{
    [Theory]
    [InlineData("llama-spm", typeof(SentencePieceTokenizer), 32000)]
    [InlineData("phi-3", typeof(SentencePieceTokenizer), 32064)]
    [InlineData("gpt-2", typeof(BytePairTokenizer), 50257)]
    [InlineData("falcon", typeof(BytePairTokenizer), 65024)]
    [InlineData("starcoder", typeof(BytePairTokenizer), 49152)]
    [InlineData("bert-bge", typeof(WordPieceTokenizer), 30522)]
    [InlineData("llama-bpe", typeof(BytePairTokenizer), 128256)]
    [InlineData("qwen2", typeof(BytePairTokenizer), 151669)]
    public void EachVocabularyLoadsAsItsKind(string name, Type kind, int size)
    {
        var tokenizer = TestTokenizers.Get(name);
        Assert.IsType(kind, tokenizer);
        Assert.Equal(size, tokenizer.VocabularySize);
    }

    [Fact]
    public void HuggingFaceFilesGiveTheExpectedPreTokenizers()
    {
        Assert.Equal("llama-bpe", Assert.IsType<BytePairTokenizer>(TestTokenizers.Get("llama-bpe")).PreTokenizerName);
        Assert.Equal("qwen2", Assert.IsType<BytePairTokenizer>(TestTokenizers.Get("qwen2")).PreTokenizerName);
        Assert.Equal(280147, Assert.IsType<BytePairTokenizer>(TestTokenizers.Get("llama-bpe")).MergeCount);
        Assert.Equal(151387, Assert.IsType<BytePairTokenizer>(TestTokenizers.Get("qwen2")).MergeCount);
    }

    [Fact]
    public void TokenizerConfigBesideTokenizerJsonIsFoundWithoutBeingNamed()
    {
        var tokenizer = Tokenizer.FromHuggingFace(TestTokenizers.HuggingFaceFile("qwen3", "tokenizer.json"));
        Assert.Equal(151645, tokenizer.EosId);
        Assert.False(tokenizer.AddBos);
    }

    [Fact]
    public void BundledModelDecodesItsGoldenGreedyText()
    {
        // stories260K.GOLDEN.txt: 64 ids generated after BOS, and the text they spell.
        string[] lines = File.ReadAllLines(RepoPaths.Fixture("models", "stories260K.GOLDEN.txt"));
        int idsAt = Array.IndexOf(lines, "token ids:") + 1, textAt = Array.IndexOf(lines, "text:") + 1;
        int[] ids = [.. lines[idsAt].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
        string text = string.Join('\n', lines[textAt..]).TrimEnd('\n');

        var tokenizer = Tokenizer.FromGguf(RepoPaths.Stories260K);
        Assert.IsType<SentencePieceTokenizer>(tokenizer);
        Assert.Equal(512, tokenizer.VocabularySize);
        Assert.Equal(text, tokenizer.Decode(ids));
        // llama.cpp keeps the prefix space when it drops a leading BOS, and writes the BOS when not skipping.
        Assert.Equal(" " + text, tokenizer.Decode([1, .. ids], skipSpecial: true));
        Assert.Equal("<s> " + text, tokenizer.Decode([1, .. ids]));
        Assert.Equal(1, tokenizer.Encode(text)[0]);
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, addSpecial: false)));
    }

    [Fact]
    public void TokenBytesJoinPartialUtf8AcrossByteFallbackTokens()
    {
        var spm = TestTokenizers.Get("llama-spm");
        int[] ids = spm.Encode("🦙", addSpecial: false);
        // "▁" then the four UTF-8 bytes of the llama as <0xF0> <0x9F> <0xA6> <0x99>.
        Assert.Equal(5, ids.Length);
        Assert.Equal("<0xF0>", spm.TokenText(ids[1]));
        Assert.Equal(TokenType.Byte, spm.GetTokenType(ids[1]));
        Assert.Equal([0xF0], spm.TokenBytes(ids[1]));
        byte[] joined = [.. ids.Skip(1).SelectMany(spm.TokenBytes)];
        Assert.Equal("🦙", Encoding.UTF8.GetString(joined));
        // Alone, a partial sequence decodes to a replacement character.
        Assert.Equal("\uFFFD", spm.Decode(ids.AsSpan(1, 1)));
    }

    [Fact]
    public void TokenTextIsTheStoredPieceAndTokenBytesItsMeaning()
    {
        var gpt2 = TestTokenizers.Get("gpt-2");
        int id = gpt2.Encode(" Hello", addSpecial: false).Single();
        Assert.Equal("ĠHello", gpt2.TokenText(id));
        Assert.Equal(" Hello"u8.ToArray(), gpt2.TokenBytes(id));
        Assert.True(gpt2.TryGetTokenId("ĠHello", out int same));
        Assert.Equal(id, same);
        Assert.False(gpt2.IsControl(id));
        Assert.True(gpt2.IsControl(50256));
    }

    [Fact]
    public void OutOfRangeIdsAreRefused()
    {
        var gpt2 = TestTokenizers.Get("gpt-2");
        Assert.Throws<ArgumentOutOfRangeException>(() => gpt2.TokenBytes(gpt2.VocabularySize));
        Assert.Throws<ArgumentOutOfRangeException>(() => gpt2.TokenText(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => gpt2.Decode([0, 50257]));
        Assert.False(gpt2.IsEndOfGeneration(-5));
    }

    [Fact]
    public void MissingHuggingFaceFileNamesThePath()
    {
        string path = Path.Combine(Path.GetTempPath(), "edgelm-no-such-dir", "tokenizer.json");
        var error = Assert.Throws<FileNotFoundException>(() => Tokenizer.FromHuggingFace(path));
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void NonByteLevelTokenizerJsonIsRefused()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgelm-tok-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"model":{"type":"WordPiece","vocab":{"a":0}},"pre_tokenizer":null}""");
        try
        {
            var error = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromHuggingFace(path));
            Assert.Contains("WordPiece", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BadVocabulariesAreRefusedWithTypedErrors()
    {
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromVocabulary(new TokenizerVocabulary
        {
            Model = "llama", Tokens = ["<unk>", "a", "a"],
        }));
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromVocabulary(new TokenizerVocabulary
        {
            Model = "llama", Tokens = ["<unk>", "<s>", "</s>"], Scores = [0f],
        }));
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromVocabulary(new TokenizerVocabulary
        {
            Model = "gpt2", PreTokenizer = "gpt-2", Tokens = ["a", "b"], // no merges
        }));
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromVocabulary(new TokenizerVocabulary
        {
            Model = "gpt2", PreTokenizer = "gpt-2", Tokens = ["a", "b"], Merges = [], AddBos = true, BosId = 7,
        }));
        Assert.Throws<NotSupportedException>(() => Tokenizer.FromVocabulary(new TokenizerVocabulary
        {
            Model = "t5", Tokens = ["a"],
        }));
        Assert.Throws<NotSupportedException>(() => Tokenizer.FromVocabulary(new TokenizerVocabulary
        {
            Model = "gpt2", PreTokenizer = "who-knows", Tokens = ["a"], Merges = [],
        }));
    }

    [Fact]
    public void TinyHandMadeSentencePieceVocabularyMergesByScore()
    {
        // Scores decide the merge order: "▁a" + "b" beats "a" + "b" only through the pair scores.
        var vocabulary = new TokenizerVocabulary
        {
            Model = "llama",
            Tokens = ["<unk>", "<s>", "</s>", "▁", "a", "b", "▁a", "ab", "▁ab"],
            Scores = [0, 0, 0, -1, -1, -1, -5, -2, -3],
            TokenTypes = [TokenType.Unknown, TokenType.Control, TokenType.Control, .. Enumerable.Repeat(TokenType.Normal, 6)],
        };
        var tokenizer = Tokenizer.FromVocabulary(vocabulary);
        // "▁ab": pairs "▁a" (-5) and "ab" (-2): "ab" merges first, then "▁" + "ab" = "▁ab" (-3).
        Assert.Equal([1, 8], tokenizer.Encode("ab"));
        Assert.Equal("ab", tokenizer.Decode([8]));
    }
}
