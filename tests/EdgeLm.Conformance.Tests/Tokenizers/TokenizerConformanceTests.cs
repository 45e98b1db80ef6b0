using System.Text;
using EdgeLm.Conformance.Tests.Oracle;
using EdgeLm.Testing;
using EdgeLm.Tokenizers;

namespace EdgeLm.Conformance.Tests.Tokenizers;

/// <summary>
/// Our tokenizers against llama.cpp's on the same vocabulary files, over seeded random text that mixes scripts,
/// digits, punctuation, whitespace runs, emoji and special-token spellings.
/// </summary>
[Collection(OracleCollection.Name)]
public class TokenizerConformanceTests
{
    private const int Samples = 150;

    public static TheoryData<string> Vocabularies => new() { "llama-spm", "phi-3", "gpt-2", "bert-bge", "falcon", "starcoder" };

    private static readonly string[] Pieces =
    [
        "Hello", "world", "the", " ", "  ", "   ", "\n", "\n\n", "\t", " \n ", ",", ".", "!", "?", "'s", "'ll", "n't", "\"", "(", ")",
        "123", "4567", "3.14", "1,000", "-", "--", "...", "café", "naïve", "Über", "ñ", "日本語", "中文字符", "한국어", "Привет", "مرحبا",
        "🦙", "👍🏽", "∑", "€", "__init__", "def", "x=1;", "<s>", "</s>", "<|endoftext|>", "[CLS]", "[SEP]", "ǅ", "\u00a0", "\u200b",
    ];

    private static IEnumerable<string> RandomTexts(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < Samples; i++)
        {
            var text = new StringBuilder();
            int parts = random.Next(1, 12);
            for (int p = 0; p < parts; p++)
            {
                if (random.Next(6) == 0)
                    text.Append((char)random.Next(0x20, 0x7f));
                else
                    text.Append(Pieces[random.Next(Pieces.Length)]);
            }
            yield return text.ToString();
        }
    }

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void RandomTextTokenizesLikeLlamaCpp(string name)
    {
        string path = RepoPaths.Fixture("vocab", $"ggml-vocab-{name}.gguf");
        var ours = Tokenizer.FromGguf(path);
        int checkedTexts = 0;
        foreach (string text in RandomTexts(StableSeed(name)))
        {
            foreach (bool parseSpecial in new[] { false, true })
            {
                int[] expected = LlamaCppVocab.Tokenize(path, text, addSpecial: true, parseSpecial: parseSpecial);
                int[] actual = ours.Encode(text, addSpecial: true, parseSpecial: parseSpecial);
                Assert.True(expected.SequenceEqual(actual),
                    $"{name}, parseSpecial={parseSpecial}, text {System.Text.Json.JsonSerializer.Serialize(text)}:\n llama.cpp {string.Join(' ', expected)}\n EdgeLm    {string.Join(' ', actual)}");
                checkedTexts++;
            }
        }
        Assert.Equal(2 * Samples, checkedTexts);
    }

    /// <summary>A seed from the name that is the same in every process (string.GetHashCode is randomised per process).</summary>
    private static int StableSeed(string name) => name.Aggregate(17, (h, c) => unchecked(h * 31 + c));

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void TokenBytesMatchLlamaCppPieces(string name)
    {
        string path = RepoPaths.Fixture("vocab", $"ggml-vocab-{name}.gguf");
        var ours = Tokenizer.FromGguf(path);
        var random = new Random(17);
        for (int i = 0; i < 500; i++)
        {
            int id = random.Next(ours.VocabularySize);
            Assert.Equal(LlamaCppVocab.TokenToBytes(path, id), ours.TokenBytes(id));
        }
    }
}
