using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using EdgeLm.Compression.Quantization;
using EdgeLm.Gguf;
using EdgeLm.Testing;
using SkiaSharp;

namespace EdgeLm.Cli.Tests;

/// <summary>
/// Quantized copies of stories260K (Q6_K, Q4_K_M and Q2_K mixes, made by ModelQuantizer with its fallbacks for the
/// 172-wide ffn_down rows) plus a byte-for-byte copy of the original, and one <c>edgelm report</c> run over all of them
/// that writes the table, a JSON file and a PNG.
/// </summary>
public sealed class ReportFixture : IDisposable
{
    public ReportFixture()
    {
        Q6 = Quantize("q6k", FileType.Q6_K);
        Q4 = Quantize("q4km", FileType.Q4_K_M);
        Q2 = Quantize("q2k", FileType.Q2_K);
        Copy = PathOf("copy-of-original.gguf");
        File.Copy(RepoPaths.Stories260K, Copy);
        Png = PathOf("chart.png");
        JsonFile = PathOf("report.json");
        Result = CliRunner.Run(["report", "-m", RepoPaths.Stories260K, Q6, Q4, Q2, Copy, .. ReportCommandTests.Settings, "--png", Png, "--json-file", JsonFile]);
    }

    public string Folder { get; } = Directory.CreateTempSubdirectory("edgelm-cli-report-").FullName;

    public string Q6 { get; }

    public string Q4 { get; }

    public string Q2 { get; }

    /// <summary>A copy of stories260K under another name: compared for real, it must come out identical to the original.</summary>
    public string Copy { get; }

    public string Png { get; }

    public string JsonFile { get; }

    /// <summary>The report over the original, Q6, Q4, Q2 and Copy, in that order.</summary>
    internal CliRunner.Result Result { get; }

    public string PathOf(string name) => Path.Combine(Folder, name);

    private string Quantize(string stem, FileType type)
    {
        string path = PathOf($"stories260K-{stem}.gguf");
        ModelQuantizer.Quantize(RepoPaths.Stories260K, path, new QuantizeOptions { FileType = type, Threads = 2 });
        return path;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary><c>edgelm report</c>: the table, the JSON and the PNG agree with the files and with the other verbs.</summary>
public sealed class ReportCommandTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    /// <summary>Small and quick: 4 chunks of 128 tokens, 8 generated and 16 prompt tokens, one timed run.</summary>
    internal static readonly string[] Settings = ["-f", Sample, "-c", "128", "--chunks", "4", "-t", "2", "-n", "8", "-p", "16", "-r", "1"];

    private static string Sample => RepoPaths.Fixture("corpora", "tinystories-sample.txt");

    private string[] Models => [RepoPaths.Stories260K, fixture.Q6, fixture.Q4, fixture.Q2, fixture.Copy];

    private JsonElement Report => JsonDocument.Parse(File.ReadAllText(fixture.JsonFile)).RootElement;

    private JsonElement ModelJson(int index) => Report.GetProperty("models")[index];

    /// <summary>The table's data rows (between the dashed rule and the blank line), split into cells.</summary>
    private string[][] TableRows()
    {
        var lines = fixture.Result.Output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        int rule = lines.FindIndex(l => l.Length > 0 && l.All(c => c == '-'));
        Assert.True(rule > 0, fixture.Result.Output);
        return lines.Skip(rule + 1).TakeWhile(l => l.Length > 0).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToArray();
    }

    [Fact]
    public void TheTableListsEveryModelInOrderWithTheFilesSizes()
    {
        Assert.True(fixture.Result.ExitCode == 0, fixture.Result.Error);
        var rows = TableRows();
        Assert.Equal(Models.Length, rows.Length);
        for (int i = 0; i < Models.Length; i++)
        {
            Assert.Equal(11, rows[i].Length);
            Assert.Equal(Path.GetFileName(Models[i]), rows[i][0]);
            long bytes = new FileInfo(Models[i]).Length;
            Assert.Equal((bytes / 1048576.0).ToString("F3", CultureInfo.InvariantCulture), rows[i][2]);
            Assert.Equal(bytes, ModelJson(i).GetProperty("file_bytes").GetInt64());
        }
        Assert.Equal(["F32", "Q6_K", "Q4_K_M", "Q2_K", "F32"], rows.Select(r => r[1]));
        Assert.Contains("2 threads", fixture.Result.Output);
    }

    [Fact]
    public void BitsPerWeightAreAllTensorsBitsOverAllElements()
    {
        for (int i = 0; i < Models.Length; i++)
        {
            using var file = GgufFile.Open(Models[i]);
            double expected = file.Tensors.Sum(t => t.ByteSize) * 8.0 / file.Tensors.Sum(t => t.ElementCount);
            Assert.Equal(expected, ModelJson(i).GetProperty("bits_per_weight").GetDouble(), 12);
            Assert.Equal(file.Tensors.Sum(t => t.ElementCount), ModelJson(i).GetProperty("parameters").GetInt64());
        }
        Assert.Equal(32.0, ModelJson(0).GetProperty("bits_per_weight").GetDouble());
    }

    [Fact]
    public void TheOriginalHasNoDivergenceAndThePerplexityVerbsPerplexity()
    {
        var original = ModelJson(0);
        Assert.True(original.GetProperty("original").GetBoolean());
        Assert.Equal(0.0, original.GetProperty("kld_mean").GetDouble());
        Assert.Equal(1.0, original.GetProperty("top1_agreement").GetDouble());
        var ppl = CliRunner.Run("perplexity", "-m", RepoPaths.Stories260K, "-f", Sample, "-c", "128", "--chunks", "4", "-t", "2", "--json");
        Assert.True(ppl.ExitCode == 0, ppl.Error);
        Assert.Equal(ppl.Json.GetProperty("perplexity").GetDouble(), original.GetProperty("perplexity").GetDouble(), 10);
        Assert.Equal(ppl.Json.GetProperty("scored_tokens").GetInt32(), Report.GetProperty("scored_tokens").GetInt32());
    }

    /// <summary>The copy is evaluated for real against the original's kept logits: any mix-up of chunks or rows shows here.</summary>
    [Fact]
    public void ACopyOfTheOriginalComesOutIdentical()
    {
        var copy = ModelJson(4);
        Assert.False(copy.GetProperty("original").GetBoolean());
        Assert.Equal(0.0, copy.GetProperty("kld_mean").GetDouble());
        Assert.Equal(0.0, copy.GetProperty("kld_max").GetDouble());
        Assert.Equal(1.0, copy.GetProperty("top1_agreement").GetDouble());
        Assert.Equal(ModelJson(0).GetProperty("perplexity").GetDouble(), copy.GetProperty("perplexity").GetDouble());
    }

    [Fact]
    public void AVariantsDivergenceMatchesTheKldVerb()
    {
        var kld = CliRunner.Run("kld", "-m", RepoPaths.Stories260K, "--candidate", fixture.Q4, "-f", Sample, "-c", "128", "--chunks", "4", "-t", "2", "--json");
        Assert.True(kld.ExitCode == 0, kld.Error);
        var q4 = ModelJson(2);
        Assert.Equal(kld.Json.GetProperty("mean").GetDouble(), q4.GetProperty("kld_mean").GetDouble(), 12);
        Assert.Equal(kld.Json.GetProperty("p99").GetDouble(), q4.GetProperty("kld_p99").GetDouble(), 12);
        Assert.Equal(kld.Json.GetProperty("top1_agreement").GetDouble(), q4.GetProperty("top1_agreement").GetDouble(), 12);
        Assert.Equal(kld.Json.GetProperty("perplexity").GetDouble(), q4.GetProperty("perplexity").GetDouble(), 10);
    }

    [Fact]
    public void FewerBitsDivergeMore()
    {
        double q6 = ModelJson(1).GetProperty("kld_mean").GetDouble();
        double q4 = ModelJson(2).GetProperty("kld_mean").GetDouble();
        double q2 = ModelJson(3).GetProperty("kld_mean").GetDouble();
        Assert.True(q6 > 0 && q6 < q4 && q4 < q2, $"KLD Q6_K {q6}, Q4_K_M {q4}, Q2_K {q2}");
        Assert.True(ModelJson(1).GetProperty("top1_agreement").GetDouble() > ModelJson(3).GetProperty("top1_agreement").GetDouble());
        Assert.True(ModelJson(3).GetProperty("perplexity_change_percent").GetDouble() > ModelJson(1).GetProperty("perplexity_change_percent").GetDouble());
        // Smaller files for fewer bits.
        Assert.True(ModelJson(3).GetProperty("file_bytes").GetInt64() < ModelJson(1).GetProperty("file_bytes").GetInt64());
    }

    [Fact]
    public void TheJsonFileHoldsTheTablesNumbers()
    {
        var rows = TableRows();
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < rows.Length; i++)
        {
            var m = ModelJson(i);
            Assert.Equal(m.GetProperty("name").GetString(), rows[i][0]);
            Assert.Equal(m.GetProperty("file_type").GetString(), rows[i][1]);
            Assert.Equal(m.GetProperty("file_mib").GetDouble().ToString("F3", inv), rows[i][2]);
            Assert.Equal(m.GetProperty("bits_per_weight").GetDouble().ToString("F2", inv), rows[i][3]);
            Assert.Equal(m.GetProperty("perplexity").GetDouble().ToString("F4", inv), rows[i][4]);
            Assert.Equal(m.GetProperty("perplexity_change_percent").GetDouble(), double.Parse(rows[i][5], inv), 2);
            Assert.Equal(m.GetProperty("kld_mean").GetDouble().ToString("F6", inv), rows[i][6]);
            Assert.Equal(m.GetProperty("kld_p99").GetDouble().ToString("F6", inv), rows[i][7]);
            Assert.Equal((m.GetProperty("top1_agreement").GetDouble() * 100).ToString("F2", inv), rows[i][8]);
            double tg = m.GetProperty("tokens_per_second").GetDouble();
            Assert.True(tg > 0);
            Assert.Equal(tg.ToString("F1", inv), rows[i][9]);
            Assert.Equal(m.GetProperty("prompt_tokens_per_second").GetDouble().ToString("F1", inv), rows[i][10]);
        }
        Assert.Equal(128, Report.GetProperty("context_length").GetInt32());
        Assert.Equal(4, Report.GetProperty("chunks").GetInt32());
        Assert.Equal(8, Report.GetProperty("generated_tokens").GetInt32());
        Assert.Equal(2, Report.GetProperty("threads").GetInt32());
        Assert.True(Report.GetProperty("reference_cached").GetBoolean());
    }

    [Fact]
    public void ThePngIsAValidNonTrivialChart()
    {
        byte[] png = File.ReadAllBytes(fixture.Png);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(1400, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(1000, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        using var bitmap = SKBitmap.Decode(fixture.Png);
        Assert.NotNull(bitmap);
        Assert.Equal(1400, bitmap.Width);
        var colors = new HashSet<uint>();
        long inked = 0;
        for (int y = 0; y < bitmap.Height; y += 2)
        {
            for (int x = 0; x < bitmap.Width; x += 2)
            {
                var c = bitmap.GetPixel(x, y);
                colors.Add((uint)c);
                if (c.Red < 200 || c.Green < 200 || c.Blue < 200)
                    inked++;
            }
        }
        // Bars, points, lines and antialiased text: many colours, and a real share of the image drawn on.
        Assert.True(colors.Count > 50, $"{colors.Count} colours");
        double share = inked / (bitmap.Width / 2.0 * (bitmap.Height / 2.0));
        Assert.True(share is > 0.05 and < 0.8, $"{share:P1} of the pixels are drawn on");
        Assert.Contains($"chart: {fixture.Png}", fixture.Result.Output);
    }

    [Fact]
    public void JsonOnStandardOutputReplacesTheTable()
    {
        var r = CliRunner.Run(["report", "-m", RepoPaths.Stories260K, fixture.Q4, .. Settings, "--json"]);
        Assert.True(r.ExitCode == 0, r.Error);
        var models = r.Json.GetProperty("models");
        Assert.Equal(2, models.GetArrayLength());
        Assert.Equal("stories260K-q4km.gguf", models[1].GetProperty("name").GetString());
        Assert.Equal(ModelJson(2).GetProperty("kld_mean").GetDouble(), models[1].GetProperty("kld_mean").GetDouble());
        Assert.DoesNotContain("KLD mean", r.Output);
    }

    [Fact]
    public void SkippingThePromptTestLeavesItsColumnEmpty()
    {
        var r = CliRunner.Run(["report", "-m", RepoPaths.Stories260K, fixture.Q6, "-f", Sample, "-c", "128", "--chunks", "2", "-t", "1", "-n", "4", "-p", "0", "-r", "1", "--json"]);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(JsonValueKind.Null, r.Json.GetProperty("models")[0].GetProperty("prompt_tokens_per_second").ValueKind);
        Assert.Equal(1, r.Json.GetProperty("threads").GetInt32());
    }

    /// <summary>Runs a report that must fail before writing anything, and checks that it did not.</summary>
    private CliRunner.Result Refused(int exitCode, string png, params string[] models)
    {
        string json = fixture.PathOf($"refused-{Guid.NewGuid():N}.json");
        var r = CliRunner.Run(["report", "-m", RepoPaths.Stories260K, .. models, .. Settings, "--png", png, "--json-file", json]);
        Assert.True(r.ExitCode == exitCode, $"exit {r.ExitCode}: {r.Error}");
        Assert.False(File.Exists(json));
        Assert.Empty(r.Output);
        Assert.Empty(Directory.GetFiles(fixture.Folder, "*.tmp"));
        return r;
    }

    [Fact]
    public void AMissingVariantIsAUsageError()
    {
        string png = fixture.PathOf("missing.png"), missing = fixture.PathOf("no-such-model.gguf");
        var r = Refused(2, png, fixture.Q4, missing);
        Assert.Contains($"'{missing}' does not exist", r.Error);
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void AVariantWithAnotherVocabularySizeIsRefused()
    {
        string other = fixture.PathOf("gpt2-vocab.gguf");
        var synth = CliRunner.Run("synth", "-o", other, "--arch", "llama", "--vocab-from", RepoPaths.Fixture("vocab", "ggml-vocab-gpt-2.gguf"),
            "--embd", "32", "--layers", "1", "--heads", "2", "--kv-heads", "2", "--ff", "64", "--type", "f16", "--tied", "--seed", "1");
        Assert.True(synth.ExitCode == 0, synth.Error);
        string png = fixture.PathOf("vocab-size.png");
        var r = Refused(2, png, fixture.Q4, other);
        Assert.Contains(other, r.Error);
        Assert.Contains("vocabulary of 50257 tokens", r.Error);
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void AVariantWithTheSameVocabularySizeButOtherTokensIsRefused()
    {
        string renamed = fixture.PathOf("renamed-token.gguf");
        using (var source = GgufFile.Open(RepoPaths.Stories260K))
        {
            string[] tokens = source.GetArray(GgufKeys.TokenizerTokens).AsStrings();
            tokens[300] = "\u2581renamed";
            var writer = GgufWriter.From(source);
            writer.SetMetadata(GgufKeys.TokenizerTokens, GgufValue.FromStrings(tokens));
            writer.Write(renamed);
        }
        string png = fixture.PathOf("vocab-text.png");
        var r = Refused(2, png, renamed);
        Assert.Contains("token 300", r.Error);
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void APngInAMissingFolderIsAUsageErrorBeforeAnyWork()
    {
        string png = Path.Combine(fixture.Folder, "no", "such", "folder", "chart.png");
        var r = Refused(2, png, fixture.Q4);
        Assert.Contains("--png", r.Error);
        Assert.Contains("does not exist", r.Error);
        Assert.False(Directory.Exists(Path.Combine(fixture.Folder, "no")));
        Assert.DoesNotContain("KL divergence", r.Error); // refused before any model was evaluated
    }

    [Fact]
    public void APngPathThatIsAFolderOrAnInputIsRefused()
    {
        string folder = fixture.PathOf("a-folder.png");
        Directory.CreateDirectory(folder);
        Assert.Contains("is a folder", Refused(2, folder, fixture.Q4).Error);

        long before = new FileInfo(fixture.Q4).Length;
        Assert.Contains("one of the inputs", Refused(2, fixture.Q4, fixture.Q4).Error);
        Assert.Equal(before, new FileInfo(fixture.Q4).Length);
        Assert.Contains("one of the inputs", Refused(2, Sample, fixture.Q4).Error);
    }

    [Fact]
    public void TooShortATextOrNoVariantIsAUsageError()
    {
        string png = fixture.PathOf("short.png");
        var r = CliRunner.Run("report", "-m", RepoPaths.Stories260K, fixture.Q4, "-f", Sample, "-c", "4096", "--png", png);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("needs at least 8192", r.Error);
        Assert.False(File.Exists(png));
        Assert.Equal(2, CliRunner.Run("report", "-m", RepoPaths.Stories260K, "-f", Sample).ExitCode);
        Assert.Equal(2, CliRunner.Run(["report", "-m", RepoPaths.Stories260K, fixture.Q4, .. Settings, "-n", "0"]).ExitCode);
    }
}
