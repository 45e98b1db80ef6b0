using EdgeLm.Numerics.Quants;
using EdgeLm.Testing;

namespace EdgeLm.Gguf.Tests;

public class RoundTripTests
{
    public static TheoryData<string> GgufFixtures()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(RepoPaths.Fixture("vocab"), "*.gguf").OrderBy(f => f, StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(RepoPaths.Root, f));
        data.Add(Path.GetRelativePath(RepoPaths.Root, RepoPaths.Stories260K));
        return data;
    }

    [Theory]
    [MemberData(nameof(GgufFixtures))]
    public void RewritingAFixtureReproducesItByteForByte(string relativePath)
    {
        string source = Path.Combine(RepoPaths.Root, relativePath);
        using var temp = new TempFolder();
        string copy = temp.File("copy.gguf");
        using (var file = GgufFile.Open(source))
            GgufWriter.From(file).Write(copy);

        byte[] expected = File.ReadAllBytes(source);
        byte[] actual = File.ReadAllBytes(copy);
        Assert.Equal(expected.Length, actual.Length);
        int firstDifference = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(firstDifference == expected.Length, $"first difference at byte {firstDifference}");
    }

    [Fact]
    public void EveryValueTypeSurvivesAWriteAndRead()
    {
        var values = new List<(string Key, GgufValue Value)>
        {
            ("t.u8", GgufValue.FromUInt8(250)),
            ("t.i8", GgufValue.FromInt8(-120)),
            ("t.u16", GgufValue.FromUInt16(65000)),
            ("t.i16", GgufValue.FromInt16(-32000)),
            ("t.u32", GgufValue.From(4_000_000_000u)),
            ("t.i32", GgufValue.From(-2_000_000_000)),
            ("t.f32", GgufValue.From(3.25f)),
            ("t.f32_nan", GgufValue.From(float.NaN)),
            ("t.bool_true", GgufValue.From(true)),
            ("t.bool_false", GgufValue.From(false)),
            ("t.string", GgufValue.From("héllo, wörld ✓ 🦙")),
            ("t.empty_string", GgufValue.From("")),
            ("t.u64", GgufValue.From(ulong.MaxValue)),
            ("t.i64", GgufValue.From(long.MinValue)),
            ("t.f64", GgufValue.From(-1e300)),
            ("t.invalid_utf8", GgufValue.FromUtf8([0xFF, 0xC3, 0x28, 0x41])),
            ("a.u8", GgufValue.FromArray(GgufArray.FromUInt8s([0, 1, 255]))),
            ("a.i8", GgufValue.FromArray(GgufArray.FromInt8s([-128, 0, 127]))),
            ("a.u16", GgufValue.FromArray(GgufArray.FromUInt16s([0, 65535]))),
            ("a.i16", GgufValue.FromArray(GgufArray.FromInt16s([-32768, 32767]))),
            ("a.u32", GgufValue.FromUInt32s([0u, uint.MaxValue])),
            ("a.i32", GgufValue.FromInt32s([int.MinValue, -1, 0, int.MaxValue])),
            ("a.f32", GgufValue.FromFloat32s([0f, -0f, float.Epsilon, float.PositiveInfinity])),
            ("a.bool", GgufValue.FromBools([true, false, true])),
            ("a.string", GgufValue.FromStrings(["a", "", "▁the", "<0x0A>"])),
            ("a.u64", GgufValue.FromArray(GgufArray.FromUInt64s([ulong.MaxValue, 0]))),
            ("a.i64", GgufValue.FromInt64s([long.MinValue, long.MaxValue])),
            ("a.f64", GgufValue.FromArray(GgufArray.FromFloat64s([Math.PI, double.NegativeInfinity]))),
            ("a.empty_f32", GgufValue.FromFloat32s([])),
            ("a.empty_string", GgufValue.FromStrings([])),
            ("a.empty_array", GgufValue.FromArray(GgufArray.Empty(GgufValueType.Array))),
            ("a.arrays", GgufValue.FromArray(GgufArray.FromArrays([
                GgufArray.FromInt32s([1, 2, 3]),
                GgufArray.FromStrings(["x", "yz"]),
                GgufArray.Empty(GgufValueType.UInt8),
                GgufArray.FromArrays([GgufArray.FromBools([true]), GgufArray.Empty(GgufValueType.String)]),
            ]))),
        };
        var writer = new GgufWriter();
        foreach (var (key, value) in values)
            writer.SetMetadata(key, value);
        var weights = Enumerable.Range(0, 8 * 3).Select(i => (float)i).ToArray();
        writer.AddTensor("w", GgmlType.F32, [8, 3], System.Runtime.InteropServices.MemoryMarshal.AsBytes(weights.AsSpan()).ToArray());

        using var temp = new TempFolder();
        string path = temp.File("all-types.gguf");
        writer.Write(path);
        using var file = GgufFile.Open(path);

        Assert.Equal(values.Select(v => v.Key), file.MetadataInOrder.Select(kv => kv.Key));
        foreach (var (key, value) in values)
        {
            Assert.Equal(value.Type, file.Metadata[key].Type);
            Assert.True(value.Equals(file.Metadata[key]), $"{key}: wrote {value}, read {file.Metadata[key]}");
        }

        Assert.Equal((byte)250, file.Metadata["t.u8"].AsUInt8());
        Assert.Equal((sbyte)-120, file.Metadata["t.i8"].AsInt8());
        Assert.Equal((ushort)65000, file.Metadata["t.u16"].AsUInt16());
        Assert.Equal((short)-32000, file.Metadata["t.i16"].AsInt16());
        Assert.Equal(4_000_000_000u, file.Metadata["t.u32"].AsUInt32());
        Assert.Equal(-2_000_000_000, file.Metadata["t.i32"].AsInt32());
        Assert.Equal(3.25f, file.Metadata["t.f32"].AsFloat32());
        Assert.True(float.IsNaN(file.Metadata["t.f32_nan"].AsFloat32()));
        Assert.True(file.Metadata["t.bool_true"].AsBool());
        Assert.False(file.Metadata["t.bool_false"].AsBool());
        Assert.Equal("héllo, wörld ✓ 🦙", file.GetString("t.string"));
        Assert.Equal("", file.GetString("t.empty_string"));
        Assert.Equal(ulong.MaxValue, file.Metadata["t.u64"].AsUInt64());
        Assert.Equal(long.MinValue, file.Metadata["t.i64"].AsInt64());
        Assert.Equal(-1e300, file.Metadata["t.f64"].AsFloat64());
        Assert.Equal(new byte[] { 0xFF, 0xC3, 0x28, 0x41 }, file.Metadata["t.invalid_utf8"].AsUtf8().ToArray());
        Assert.Equal(new[] { int.MinValue, -1, 0, int.MaxValue }, file.GetArray("a.i32").AsInt32s());
        Assert.Equal(new[] { "a", "", "▁the", "<0x0A>" }, file.GetArray("a.string").AsStrings());
        Assert.Equal(new[] { true, false, true }, file.GetArray("a.bool").AsBools());
        Assert.Empty(file.GetArray("a.empty_f32").AsFloat32s());
        Assert.Empty(file.GetArray("a.empty_string").AsStrings());

        var nested = file.GetArray("a.arrays").AsArrays();
        Assert.Equal(4, nested.Length);
        Assert.Equal(new[] { 1, 2, 3 }, nested[0].AsInt32s());
        Assert.Equal(new[] { "x", "yz" }, nested[1].AsStrings());
        Assert.Equal(GgufValueType.UInt8, nested[2].ElementType);
        Assert.Empty(nested[2]);
        Assert.Equal(new[] { true }, nested[3].AsArrays()[0].AsBools());
        Assert.Equal(GgufValueType.String, nested[3].AsArrays()[1].ElementType);

        var w = file.GetTensor("w");
        Assert.Equal(new long[] { 8, 3 }, w.Dimensions);
        Assert.Equal(weights, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorBytes(w)).ToArray());

        // And the file rewrites to itself.
        string again = temp.File("again.gguf");
        GgufWriter.From(file).Write(again);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(again));
    }
}
