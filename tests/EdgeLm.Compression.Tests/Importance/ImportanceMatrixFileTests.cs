using System.Buffers.Binary;
using System.Text;
using EdgeLm.Compression.Importance;
using EdgeLm.Gguf;
using EdgeLm.Testing;

namespace EdgeLm.Compression.Tests.Importance;

public sealed class ImportanceMatrixFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("edgelm-imatrix-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private static ImportanceMatrix Sample() => new(
    [
        new ImportanceEntry("blk.0.attn_q.weight", [1f, 4f, 9f, 0f], [2f]),
        new ImportanceEntry("blk.0.ffn_down.weight", [3f, 6f, 12f, 24f, 0.5f, 0.25f], [3f]),
        new ImportanceEntry("blk.1.ffn_down_exps.weight", [2f, 2f, 8f, 8f], [4f, 0f]),
    ], ["calibration.txt"], 7, 512);

    [Fact]
    public void GgufRoundTripKeepsSumsCountsAndMetadata()
    {
        string path = PathOf("m.gguf");
        ImportanceMatrixFile.Write(Sample(), path, ImportanceMatrixFormat.Gguf);
        var back = ImportanceMatrixFile.Read(path);
        Assert.Equal(["calibration.txt"], back.Datasets);
        Assert.Equal(7, back.ChunkCount);
        Assert.Equal(512, back.ChunkSize);
        foreach (var e in Sample().Entries)
        {
            var b = back.Find(e.Name)!;
            Assert.Equal(e.SumOfSquares, b.SumOfSquares);
            Assert.Equal(e.Counts, b.Counts);
        }
        // The layout llama-quantize reads: NAME.in_sum2 [columns, matrices] and NAME.counts [1, matrices], F32.
        using var file = GgufFile.Open(path);
        Assert.Equal("imatrix", file.GetString(GgufKeys.GeneralType));
        var sums = file.GetTensor("blk.1.ffn_down_exps.weight.in_sum2");
        Assert.Equal([2L, 2L], sums.Dimensions);
        Assert.Equal([1L, 2L], file.GetTensor("blk.1.ffn_down_exps.weight.counts").Dimensions);
    }

    /// <summary>
    /// The legacy format stores mean squares times ncall (the chunks spanned by the largest count, rounded up), and
    /// 1s for a matrix that saw nothing; reading it back gives the same mean squares.
    /// </summary>
    [Fact]
    public void LegacyRoundTripKeepsTheMeanSquares()
    {
        string path = PathOf("m.dat");
        ImportanceMatrixFile.Write(Sample(), path, ImportanceMatrixFormat.Legacy);
        var back = ImportanceMatrixFile.Read(path);
        Assert.Equal(7, back.ChunkCount);
        Assert.Equal(["calibration.txt"], back.Datasets);
        Assert.Equal([0.5f, 2f, 4.5f, 0f], back.Find("blk.0.attn_q.weight")!.MeanSquares());
        Assert.Equal([1f, 2f, 4f, 8f, 1f / 6, 1f / 12], back.Find("blk.0.ffn_down.weight")!.MeanSquares(), new ToleranceComparer(1e-6f));
        // The expert that saw no token is stored as 1s, as llama-imatrix does.
        Assert.Equal([0.5f, 0.5f, 1f, 1f], back.Find("blk.1.ffn_down_exps.weight")!.MeanSquares());
    }

    /// <summary>A legacy file assembled byte by byte as llama-imatrix writes it reads as llama-quantize reads it.</summary>
    [Fact]
    public void ReadsAHandWrittenLegacyFile()
    {
        var bytes = new List<byte>();
        void Int(int v) { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); bytes.AddRange(b); }
        void Float(float v) { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); bytes.AddRange(b); }
        Int(1);
        var name = Encoding.UTF8.GetBytes("blk.3.attn_k.weight");
        Int(name.Length); bytes.AddRange(name);
        Int(4);                 // ncall
        Int(2);                 // values
        Float(8f); Float(2f);   // mean squares 2 and 0.5, times ncall
        Int(4);                 // chunks
        Int(3); bytes.AddRange("abc"u8.ToArray());
        string path = PathOf("hand.dat");
        File.WriteAllBytes(path, [.. bytes]);
        var m = ImportanceMatrixFile.Read(path);
        Assert.Equal([2f, 0.5f], m.Find("blk.3.attn_k.weight")!.MeanSquares());
        Assert.Equal(4, m.ChunkCount);
        Assert.Equal(["abc"], m.Datasets);
    }

    public static TheoryData<string, byte[]> CorruptFiles()
    {
        var good = ImportanceMatrixFile.ToLegacy(Sample());
        var hugeCount = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(hugeCount, 1_000_000);
        var nan = (byte[])good.Clone();
        // The first value of the first entry (after count, name length, name, ncall, nval).
        int firstValue = 4 + 4 + "blk.0.attn_q.weight".Length + 8;
        BinaryPrimitives.WriteSingleLittleEndian(nan.AsSpan(firstValue), float.NaN);
        var longName = (byte[])good.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(longName.AsSpan(4), int.MaxValue);
        return new TheoryData<string, byte[]>
        {
            { "truncated", good[..(good.Length / 2)] },
            { "entry count beyond the file", hugeCount },
            { "not a number", nan },
            { "name length beyond the file", longName },
            { "trailing bytes", [.. good, 1, 2, 3] },
            { "empty", [] },
            { "text", "hello, this is not an imatrix"u8.ToArray() },
            { "truncated gguf", "GGUF\u0003\0\0\0"u8.ToArray() },
        };
    }

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void CorruptFilesAreRefusedWithTheirName(string what, byte[] bytes)
    {
        string path = PathOf($"corrupt-{what.Replace(' ', '-')}.dat");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ImportanceMatrixFormatException>(() => ImportanceMatrixFile.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void AModelIsNotAnImportanceMatrix()
    {
        var e = Assert.Throws<ImportanceMatrixFormatException>(() => ImportanceMatrixFile.Read(RepoPaths.Stories260K));
        Assert.Contains("missing importance matrix metadata", e.Message);
    }

    [Fact]
    public void GgufSumsWithoutCountsAreRefused()
    {
        var w = ImportanceMatrixFile.ToGguf(Sample());
        var broken = new GgufWriter();
        foreach (var (k, v) in w.Metadata)
            broken.SetMetadata(k, v);
        broken.AddTensor("blk.0.attn_q.weight.in_sum2", EdgeLm.Numerics.Quants.GgmlType.F32, [4, 1], new byte[16]);
        string path = PathOf("nocounts.gguf");
        broken.Write(path);
        var e = Assert.Throws<ImportanceMatrixFormatException>(() => ImportanceMatrixFile.Read(path));
        Assert.Contains("no counts", e.Message);
    }

    [Fact]
    public void FormatFollowsTheFileName()
    {
        Assert.Equal(ImportanceMatrixFormat.Legacy, ImportanceMatrixFile.FormatForPath("imatrix.DAT"));
        Assert.Equal(ImportanceMatrixFormat.Gguf, ImportanceMatrixFile.FormatForPath("imatrix.gguf"));
        Assert.Equal(ImportanceMatrixFormat.Gguf, ImportanceMatrixFile.FormatForPath("imatrix"));
    }

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => MathF.Abs(x - y) <= tolerance * MathF.Max(1, MathF.Abs(x));

        public int GetHashCode(float obj) => 0;
    }
}
