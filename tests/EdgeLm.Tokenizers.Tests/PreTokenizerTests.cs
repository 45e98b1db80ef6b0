using System.Text;
using EdgeLm.Testing;
using EdgeLm.Tokenizers.Loading;
using EdgeLm.Tokenizers.PreTokenization;

namespace EdgeLm.Tokenizers.Tests;

/// <summary>
/// Pre-tokenizer types without llama.cpp vectors here: their splits are checked against what llama.cpp's regex lists
/// give (worked out by hand from llm_tokenizer_bpe), and a real vocabulary (GPT-2's, with the pre-tokenizer swapped)
/// loads and round-trips text with each of them.
/// </summary>
public sealed class PreTokenizerTests
{
    private static string[] Words(string pre, string text)
    {
        var words = PreTokenizer.ForName(pre).Split(text);
        return [.. words.Select(w => text.Substring(w.Start, w.Length))];
    }

    [Theory]
    [InlineData("mpt")]
    [InlineData("gpt-2")]
    public void Gpt2StyleSplitsContractionsWordsAndSpaces(string pre)
    {
        Assert.Equal(["Hello", " world", "'s", " ", " 3", ".", "14", "!!"], Words(pre, "Hello world's  3.14!!"));
    }

    [Fact]
    public void RefactSplitsEveryDigitFirst()
    {
        Assert.Equal(["abc", " ", "1", "2", "3"], Words("refact", "abc 123"));
        Assert.Equal(["abc", " 123"], Words("mpt", "abc 123"));
    }

    [Fact]
    public void DeepSeekCoderSplitsLettersPunctuationCjkAndDigits()
    {
        Assert.Equal(["Hi", ",", " ", "你好", " ", "4", "2", "\n"], Words("deepseek-coder", "Hi, 你好 42\n"));
    }

    [Fact]
    public void DeepSeekLlmSplitsByItsLetterClassesAndNumberRuns()
    {
        Assert.Equal(["Hi", ",", " ", "你好", " ", "42", "\n"], Words("deepseek-llm", "Hi, 你好 42\n"));
        // Deseret letters (beyond the BMP) are in its letter class, so a run mixing them with Greek is one word...
        Assert.Equal(["\u03A9\U00010437\u03A9"], Words("deepseek-llm", "\u03A9\U00010437\u03A9"));
        // ...while its punctuation class "[!-/:-~...]" also covers ASCII letters and cuts them off non-ASCII ones.
        Assert.Equal(["x", " \U00010437\U00010438", "y"], Words("deepseek-llm", "x \U00010437\U00010438y"));
        // Trailing whitespace of a fragment is its own piece ("\\s+$").
        Assert.Equal(["ab", "  "], Words("deepseek-llm", "ab  "));
    }

    [Fact]
    public void Llama3AndQwen2DifferInDigitGroups()
    {
        Assert.Equal(["123", "45"], Words("llama-bpe", "12345"));
        Assert.Equal(["1", "2", "3", "4", "5"], Words("qwen2", "12345"));
        Assert.Equal(["Hello", "'S", " world", "\n\n", "  ", " x"], Words("llama-bpe", "Hello'S world\n\n   x"));
        Assert.Equal(["Hello", "'S", " world", "\n\n", "  ", " x"], Words("qwen2", "Hello'S world\n\n   x"));
    }

    [Fact]
    public void DefaultAndFalconSplitPunctuationRunsFirstAndDigitTriples()
    {
        // default: punctuation runs, GPT-2, \p{N}+, then [0-9]{3}; falcon: punctuation runs, GPT-2, [0-9]{3}.
        Assert.Equal(["a", "...", "b", " ", "123", "4"], Words("default", "a...b 1234"));
        Assert.Equal(["a", "...", "b", " ", "123", "4"], Words("falcon", "a...b 1234"));
        Assert.Equal(["x", " ", "12"], Words("default", "x 12"));
        Assert.Equal(["x", " 12"], Words("falcon", "x 12"));
    }

    [Fact]
    public void UnknownPreTokenizerIsRefused()
    {
        var error = Assert.Throws<NotSupportedException>(() => PreTokenizer.ForName("no-such-pre"));
        Assert.Contains("no-such-pre", error.Message);
    }

    [Theory]
    [InlineData("deepseek-llm")]
    [InlineData("deepseek-coder")]
    [InlineData("mpt")]
    [InlineData("refact")]
    [InlineData("default")]
    [InlineData("starcoder")]
    [InlineData("qwen2")]
    [InlineData("llama-bpe")]
    public void GptTwoVocabularyLoadsAndRoundTripsWithEachPreTokenizer(string pre)
    {
        using var file = EdgeLm.Gguf.GgufFile.Open(RepoPaths.Fixture("vocab", "ggml-vocab-gpt-2.gguf"));
        var source = GgufVocabularyReader.Read(file);
        var vocabulary = new TokenizerVocabulary
        {
            Model = source.Model, PreTokenizer = pre, Tokens = source.Tokens, TokenTypes = source.TokenTypes,
            Merges = source.Merges, BosId = source.BosId, EosId = source.EosId,
        };
        var tokenizer = Assert.IsType<BytePairTokenizer>(Tokenizer.FromVocabulary(vocabulary));
        Assert.Equal(pre, tokenizer.PreTokenizerName);

        const string text = "Hello, 世界! x  = 12345;\n\tif (a'll) { 𐐷 } 😀 ";
        int[] ids = tokenizer.Encode(text, addSpecial: false);
        Assert.NotEmpty(ids);
        Assert.Equal(text, Encoding.UTF8.GetString([.. ids.SelectMany(tokenizer.TokenBytes)]));
    }
}
