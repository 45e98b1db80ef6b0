using System.Runtime.InteropServices;
using EdgeLm.Numerics.Quants;
using EdgeLm.Testing;

namespace EdgeLm.Gguf.Tests;

public class WriterTests
{
    private static byte[] Floats(int n, float start = 0) =>
        MemoryMarshal.AsBytes(Enumerable.Range(0, n).Select(i => start + i).ToArray().AsSpan()).ToArray();

    private static GgufWriter SmallWriter()
    {
        var w = new GgufWriter();
        w.SetMetadata(GgufKeys.GeneralArchitecture, GgufValue.From("llama"));
        w.AddTensor("a.weight", GgmlType.F32, [4, 2], Floats(8));
        w.AddTensor("b.weight", GgmlType.F32, [3], Floats(3, 100));
        return w;
    }

    [Fact]
    public void FailingDataSourceLeavesNoTempFileAndKeepsTheExistingFile()
    {
        using var temp = new TempFolder();
        string path = temp.File("model.gguf");
        File.WriteAllText(path, "the original contents");

        var w = SmallWriter();
        w.AddTensor("c.weight", GgmlType.F32, [1024], 4096, s =>
        {
            s.Write(new byte[1000]);
            throw new IOException("source failed mid-tensor");
        });
        var e = Assert.Throws<IOException>(() => w.Write(path));
        Assert.Equal("source failed mid-tensor", e.Message);

        Assert.Equal("the original contents", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void FailingWriteToANewPathLeavesNothing()
    {
        using var temp = new TempFolder();
        string path = temp.File("new.gguf");
        var w = SmallWriter();
        w.AddTensor("c.weight", GgmlType.F32, [16], 64, _ => throw new InvalidDataException("no data"));
        Assert.Throws<InvalidDataException>(() => w.Write(path));
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Theory]
    [InlineData(60, "wrote 60 bytes, expected 64")]
    [InlineData(65, "more than the declared 64 bytes")]
    public void DataSourceWritingTheWrongAmountIsRefused(int count, string expected)
    {
        using var temp = new TempFolder();
        string path = temp.File("model.gguf");
        File.WriteAllBytes(path, [1, 2, 3]);
        var w = SmallWriter();
        w.AddTensor("c.weight", GgmlType.F32, [16], 64, s => s.Write(new byte[count]));
        var e = Assert.Throws<InvalidOperationException>(() => w.Write(path));
        Assert.Contains("'c.weight'", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void SuccessfulWriteReplacesTheExistingFile()
    {
        using var temp = new TempFolder();
        string path = temp.File("model.gguf");
        File.WriteAllText(path, "old");
        SmallWriter().Write(path);
        using var file = GgufFile.Open(path);
        Assert.Equal(2, file.Tensors.Count);
        Assert.Single(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void WriteToStreamMatchesWriteToFile()
    {
        using var temp = new TempFolder();
        string path = temp.File("model.gguf");
        var w = SmallWriter();
        w.Write(path);
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        Assert.Equal(File.ReadAllBytes(path), ms.ToArray());
    }

    [Fact]
    public void SettingAnExistingKeyReplacesItInPlace()
    {
        var w = new GgufWriter();
        w.SetMetadata("k.a", GgufValue.From(1));
        w.SetMetadata("k.b", GgufValue.From(2));
        w.SetMetadata("k.c", GgufValue.From(3));
        w.SetMetadata("k.b", GgufValue.From("two"));
        Assert.Equal(new[] { "k.a", "k.b", "k.c" }, w.Metadata.Select(kv => kv.Key));
        Assert.Equal("two", w.Metadata[1].Value.AsString());
        Assert.True(w.RemoveMetadata("k.a"));
        Assert.False(w.RemoveMetadata("k.a"));
        w.SetMetadata("k.b", GgufValue.From(22));
        Assert.Equal(new[] { "k.b", "k.c" }, w.Metadata.Select(kv => kv.Key));
        Assert.Equal(22, w.Metadata[0].Value.AsInt32());
    }

    [Fact]
    public void AlignmentIsHonouredForHeaderAndEveryTensor()
    {
        using var temp = new TempFolder();
        string path = temp.File("aligned.gguf");
        var w = SmallWriter();
        w.SetAlignment(256);
        w.AddTensor("q.weight", GgmlType.Q8_0, [64, 2], new byte[2 * 2 * 34]);
        w.Write(path);

        using var file = GgufFile.Open(path);
        Assert.Equal(256, file.Alignment);
        Assert.Equal(256u, file.Metadata[GgufKeys.GeneralAlignment].AsUInt32());
        Assert.Equal(0, file.DataOffset % 256);
        Assert.All(file.Tensors, t => Assert.Equal(0, t.FileOffset % 256));
        Assert.Equal(136, file.GetTensor("q.weight").ByteSize);
        Assert.Equal(Floats(3, 100), file.GetTensorBytes(file.GetTensor("b.weight")).ToArray());
        Assert.Equal(0, file.Length % 256);
    }

    [Fact]
    public void AFileWithoutTensorsIsNotPadded()
    {
        using var temp = new TempFolder();
        string path = temp.File("vocab.gguf");
        var w = new GgufWriter();
        w.SetMetadata("general.name", GgufValue.From("x"));
        w.Write(path);
        // magic 4 + version 4 + counts 16 + key (8 + 12) + type 4 + value (8 + 1)
        Assert.Equal(57, new FileInfo(path).Length);
        using var file = GgufFile.Open(path);
        Assert.Equal(57, file.DataOffset);
        Assert.Equal("x", file.GetString("general.name"));
    }

    [Fact]
    public void Version2FilesWriteAndRead()
    {
        using var temp = new TempFolder();
        string path = temp.File("v2.gguf");
        var w = new GgufWriter(version: 2);
        w.AddTensor("t", GgmlType.F16, [8], new byte[16]);
        w.Write(path);
        using var file = GgufFile.Open(path);
        Assert.Equal(2u, file.Version);
        Assert.Equal(16, file.GetTensor("t").ByteSize);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GgufWriter(version: 1));
    }

    [Fact]
    public void RewritingWithChangedMetadataKeepsTensorData()
    {
        using var temp = new TempFolder();
        string path = temp.File("renamed.gguf");
        using (var source = GgufFile.Open(RepoPaths.Stories260K))
        {
            var w = GgufWriter.From(source);
            w.SetMetadata(GgufKeys.GeneralName, GgufValue.From("a renamed model with a longer name"));
            w.Write(path);
        }
        using var original = GgufFile.Open(RepoPaths.Stories260K);
        using var renamed = GgufFile.Open(path);
        Assert.Equal("a renamed model with a longer name", renamed.GetString(GgufKeys.GeneralName));
        Assert.Equal(original.MetadataInOrder.Select(kv => kv.Key), renamed.MetadataInOrder.Select(kv => kv.Key));
        Assert.Equal(original.Tensors.Count, renamed.Tensors.Count);
        foreach (var t in original.Tensors)
            Assert.True(original.GetTensorBytes(t).SequenceEqual(renamed.GetTensorBytes(renamed.GetTensor(t.Name))), t.Name);
    }

    [Fact]
    public void InvalidTensorsAndAlignmentsAreRefusedWhenAdded()
    {
        var w = new GgufWriter();
        w.AddTensor("x", GgmlType.F32, [2], new byte[8]);
        Assert.Contains("already added", Assert.Throws<ArgumentException>(() => w.AddTensor("x", GgmlType.F32, [2], new byte[8])).Message);
        Assert.Contains("rank 5", Assert.Throws<ArgumentException>(() => w.AddTensor("r", GgmlType.F32, [1, 1, 1, 1, 1], new byte[4])).Message);
        Assert.Contains("rank 0", Assert.Throws<ArgumentException>(() => w.AddTensor("r", GgmlType.F32, [], new byte[4])).Message);
        Assert.Contains("must be positive", Assert.Throws<ArgumentException>(() => w.AddTensor("z", GgmlType.F32, [4, 0], new byte[0])).Message);
        Assert.Contains("block size 32", Assert.Throws<ArgumentException>(() => w.AddTensor("q", GgmlType.Q8_0, [33], new byte[34])).Message);
        Assert.Contains("takes 16 bytes", Assert.Throws<ArgumentException>(() => w.AddTensor("s", GgmlType.F32, [4], new byte[15])).Message);
        Assert.Contains("not 17", Assert.Throws<ArgumentException>(() => w.AddTensor("s", GgmlType.F32, [4], 17, _ => { })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => w.AddTensor("u", (GgmlType)999, [4], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor(new string('n', 64), GgmlType.F32, [1], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("", GgmlType.F32, [1], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("big", GgmlType.F32, [long.MaxValue / 2, 4], 0, _ => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.SetAlignment(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.SetAlignment(0));
        Assert.Throws<ArgumentException>(() => w.SetMetadata(GgufKeys.GeneralAlignment, GgufValue.From(64UL)));
        Assert.Throws<ArgumentException>(() => w.SetMetadata(GgufKeys.GeneralAlignment, GgufValue.From(48u)));
        Assert.Throws<ArgumentException>(() => w.SetMetadata("", GgufValue.From(1)));
        Assert.Equal(1, w.TensorCount);
        Assert.Equal(32, w.Alignment);
    }

    [Fact]
    public void ArraysNestedTooDeeplyAreRefused()
    {
        var a = GgufArray.FromInt32s([1]);
        for (int depth = 1; depth < 8; depth++)
            a = GgufArray.FromArrays([a]);
        var w = new GgufWriter();
        w.SetMetadata("ok", GgufValue.FromArray(a)); // depth 8
        Assert.Throws<ArgumentException>(() => w.SetMetadata("too.deep", GgufValue.FromArray(GgufArray.FromArrays([a]))));
    }
}
