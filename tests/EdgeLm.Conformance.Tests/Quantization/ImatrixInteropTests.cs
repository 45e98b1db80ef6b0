using EdgeLm.Cli;
using EdgeLm.Compression.Importance;
using EdgeLm.Conformance.Tests.Oracle;
using EdgeLm.Gguf;
using EdgeLm.Testing;

namespace EdgeLm.Conformance.Tests.Quantization;

/// <summary>
/// Importance matrices cross between the tools: a file `edgelm imatrix` writes is read by ggml's GGUF reader with
/// the keys and tensors llama-quantize loads, and, turned into values the way llama-quantize does (sum / count),
/// drives llama.cpp's quantizer to the same bytes as `edgelm quantize --imatrix`; a file written by ggml in
/// llama-imatrix's layout reads back in EdgeLm unchanged.
/// </summary>
[Collection(OracleCollection.Name)]
public sealed class ImatrixInteropTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-imatrix-interop-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static int Cli(params string[] args)
    {
        var error = new StringWriter();
        int code = EdgeLmCli.Run(args, new StringWriter(), error);
        Assert.True(code == 0, $"edgelm {string.Join(' ', args)}: {error}");
        return code;
    }

    [Fact]
    public void OurImatrixDrivesLlamaCppsQuantizerToOurBytes()
    {
        string imatrix = Path.Combine(_folder, "stories.imatrix.gguf");
        Cli("imatrix", "-m", RepoPaths.Stories260K, "-f", RepoPaths.Fixture("corpora", "tinystories-sample.txt"), "-o", imatrix, "-c", "128", "--chunks", "3", "-t", "2");

        var seen = GgmlGguf.Read(imatrix);
        Assert.NotNull(seen);
        Assert.Equal("imatrix", seen.GeneralType);
        Assert.Equal(3u, seen.ChunkCount);
        Assert.Equal(128u, seen.ChunkSize);
        Assert.Single(seen.Datasets);
        // The value types llama-quantize's loader asks for: u32 counts, an array of strings.
        Assert.Equal(4, seen.KeyTypes["imatrix.chunk_count"]);
        Assert.Equal(9, seen.KeyTypes["imatrix.datasets"]);

        // llama-quantize's loading: for each NAME.in_sum2 with its NAME.counts, value = sum / count.
        var values = new Dictionary<string, float[]>();
        foreach (var (name, (columns, rows, sums)) in seen.Tensors)
        {
            if (!name.EndsWith(".in_sum2", StringComparison.Ordinal))
                continue;
            string weight = name[..^".in_sum2".Length];
            var counts = seen.Tensors[weight + ".counts"];
            Assert.Equal((1L, rows), (counts.Columns, counts.Rows));
            Assert.Equal(3f * 128, counts.Values[0]);
            values[weight] = sums.Select(s => s / counts.Values[0]).ToArray();
        }
        Assert.Equal(35, values.Count);

        string theirs = Path.Combine(_folder, "llama.gguf"), ours = Path.Combine(_folder, "edgelm.gguf");
        LlamaCppQuantizer.Quantize(RepoPaths.Stories260K, theirs, "Q3_K_M", importance: values);
        Cli("quantize", RepoPaths.Stories260K, ours, "Q3_K_M", "--imatrix", imatrix, "-t", "2");
        using var x = GgufFile.Open(theirs);
        using var y = GgufFile.Open(ours);
        foreach (var t in x.Tensors)
        {
            var u = y.GetTensor(t.Name);
            Assert.Equal(t.Type, u.Type);
            Assert.True(x.GetTensorBytes(t).SequenceEqual(y.GetTensorBytes(u)), $"{t.Name} differs");
        }
        Assert.Equal(imatrix, y.GetString("quantize.imatrix.file"));
    }

    [Fact]
    public void AnImatrixWrittenByGgmlReadsBackInEdgeLm()
    {
        var rng = new Random(9);
        var entries = new[] { "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.1.attn_output.weight" }
            .Select((name, i) => (Name: name, Sums: Enumerable.Range(0, 64 + 108 * (i % 2)).Select(_ => (float)rng.NextDouble() * 100).ToArray(), Count: 512f * (i + 1)))
            .ToList();
        string path = Path.Combine(_folder, "ggml.imatrix.gguf");
        GgmlGguf.WriteImatrix(path, "wiki.train.raw", 12, 512, entries);

        var m = ImportanceMatrixFile.Read(path);
        Assert.Equal(["wiki.train.raw"], m.Datasets);
        Assert.Equal(12, m.ChunkCount);
        Assert.Equal(512, m.ChunkSize);
        Assert.Equal(entries.Count, m.Count);
        foreach (var (name, sums, count) in entries)
        {
            var e = m.Find(name)!;
            Assert.Equal(sums, e.SumOfSquares);
            Assert.Equal([count], e.Counts);
            Assert.Equal(sums.Select(s => s / count), e.MeanSquares());
        }
    }
}
