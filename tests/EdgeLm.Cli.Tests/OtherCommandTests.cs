using System.Text.Json;
using EdgeLm.Testing;

namespace EdgeLm.Cli.Tests;

public class OtherCommandTests
{
    private static string Vocab(string name) => RepoPaths.Fixture("vocab", $"ggml-vocab-{name}.gguf");

    [Fact]
    public void TokenizeWorksOnAVocabularyOnlyFile()
    {
        var r = CliRunner.Run("tokenize", "-m", Vocab("llama-spm"), "--no-bos", "--json", "Hello world");
        Assert.True(r.ExitCode == 0, r.Error);
        // From llama.cpp's vectors for this vocabulary: " Hello world" -> 15043 3186 (the leading space is added by the tokenizer).
        Assert.Equal([15043, 3186], r.Json.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public void TokenizeAddsBosUnlessAskedNotTo()
    {
        var withBos = CliRunner.Run("tokenize", "Once upon a time");
        var without = CliRunner.Run("tokenize", "--no-bos", "Once upon a time");
        Assert.Equal(0, withBos.ExitCode);
        Assert.Equal("1 " + without.Output.Trim(), withBos.Output.Trim());
    }

    [Fact]
    public void TokenizeBatchWritesOneObjectPerLine()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgelm-batch-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, [JsonSerializer.Serialize("Once upon a time"), JsonSerializer.Serialize("Lily\nand Tom")]);
        try
        {
            var r = CliRunner.Run("tokenize", "--batch", path);
            Assert.True(r.ExitCode == 0, r.Error);
            string[] lines = r.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            var single = CliRunner.Run("tokenize", "--json", "Lily\nand Tom");
            Assert.Equal(single.Output.Trim(), lines[1].Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TokenizeBatchRejectsALineThatIsNotAJsonString()
    {
        string path = Path.Combine(Path.GetTempPath(), $"edgelm-batch-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(path, ["\"fine\"", "{not json"]);
        try
        {
            var r = CliRunner.Run("tokenize", "--batch", path);
            Assert.Equal(1, r.ExitCode);
            Assert.Contains(":2:", r.Error);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void LogitsOfEveryPositionEndWithTheLastPositionsLogits()
    {
        var all = CliRunner.Run("logits", "-p", "Once upon", "--all", "--json");
        var last = CliRunner.Run("logits", "-p", "Once upon", "--json");
        Assert.True(all.ExitCode == 0, all.Error);
        int tokens = all.Json.GetProperty("tokens").GetArrayLength();
        var rows = all.Json.GetProperty("logits");
        Assert.Equal(tokens, rows.GetArrayLength());
        Assert.Equal(1, last.Json.GetProperty("logits").GetArrayLength());
        Assert.Equal(512, rows[0].GetArrayLength());
        float[] a = rows[tokens - 1].EnumerateArray().Select(e => e.GetSingle()).ToArray();
        float[] b = last.Json.GetProperty("logits")[0].EnumerateArray().Select(e => e.GetSingle()).ToArray();
        for (int i = 0; i < a.Length; i++)
            Assert.Equal(a[i], b[i], 3);
    }

    [Fact]
    public void PerplexityOfInDomainTextIsLowAndOfShuffledTextHigh()
    {
        var r = CliRunner.Run("perplexity", "-f", RepoPaths.Fixture("corpora", "tinystories-sample.txt"), "-c", "128", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        double ppl = r.Json.GetProperty("perplexity").GetDouble();
        Assert.InRange(ppl, 1.5, 20); // stories260K reaches a validation loss of about 1.3 nats on this domain
        Assert.True(r.Json.GetProperty("chunks").GetInt32() >= 2);

        var words = File.ReadAllText(RepoPaths.Fixture("corpora", "tinystories-sample.txt")).Split(' ');
        new Random(3).Shuffle(words);
        string shuffled = Path.Combine(Path.GetTempPath(), $"edgelm-shuffled-{Guid.NewGuid():N}.txt");
        File.WriteAllText(shuffled, string.Join(' ', words));
        try
        {
            var s = CliRunner.Run("perplexity", "-f", shuffled, "-c", "128", "--json");
            Assert.True(s.Json.GetProperty("perplexity").GetDouble() > 2 * ppl);
        }
        finally
        {
            File.Delete(shuffled);
        }
    }

    [Fact]
    public void PerplexityRefusesATextShorterThanTwoContexts()
    {
        var r = CliRunner.Run("perplexity", "-f", RepoPaths.Fixture("corpora", "tinystories-sample.txt"), "-c", "100000");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("needs at least", r.Error);
    }

    [Fact]
    public void InspectListsMetadataAndTensors()
    {
        var r = CliRunner.Run("inspect", RepoPaths.Stories260K, "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var json = r.Json;
        Assert.Equal("llama", json.GetProperty("metadata").GetProperty("general.architecture").GetString());
        Assert.Equal(64, json.GetProperty("metadata").GetProperty("llama.embedding_length").GetInt32());
        var tensors = json.GetProperty("tensors");
        Assert.Equal(48, tensors.GetArrayLength());
        var embd = tensors.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "token_embd.weight");
        Assert.Equal("F32", embd.GetProperty("type").GetString());
        Assert.Equal([64, 512], embd.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));

        var text = CliRunner.Run("inspect", RepoPaths.Stories260K);
        Assert.Contains("token_embd.weight", text.Output);
        Assert.Contains("general.architecture", text.Output);
    }

    [Fact]
    public void UnknownVerbIsAUsageError()
    {
        var r = CliRunner.Run("fly");
        Assert.Equal(2, r.ExitCode);
    }
}
