using System.Diagnostics;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Gguf.Tests;

/// <summary>
/// Truncated, corrupted and lying files must all end in a <see cref="GgufFormatException"/> that names the problem,
/// quickly, without allocating what the file claims.
/// </summary>
public sealed class MalformedTests : IDisposable
{
    private const uint F32 = (uint)GgmlType.F32;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private sealed record Case(Func<byte[]> Build, string Message, string? Field);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["2^60 tensors"] = new(() => new RawGguf().Header(1UL << 60, 0).Zeros(100).ToArray(),
            "claims 1152921504606846976 tensors", "tensor_count"),
        ["2^60 metadata entries"] = new(() => new RawGguf().Header(0, 1UL << 60).Zeros(100).ToArray(),
            "claims 1152921504606846976 metadata entries", "metadata_kv_count"),
        ["2^62-byte string value"] = new(() => new RawGguf().Header(0, 1).Kv("general.name", GgufValueType.String).U64(1UL << 62).Zeros(64).ToArray(),
            "length 4611686018427387904", "general.name"),
        ["2^62-byte key"] = new(() => new RawGguf().Header(0, 1).U64(1UL << 62).Zeros(64).ToArray(),
            "length 4611686018427387904", "metadata #0"),
        ["2^61-element array"] = new(() => new RawGguf().Header(0, 1).Kv("big", GgufValueType.Array).U32((uint)GgufValueType.UInt8).U64(1UL << 61).Zeros(64).ToArray(),
            "array of 2305843009213693952 UInt8 elements", "big"),
        ["2^61-element string array"] = new(() => new RawGguf().Header(0, 1).Kv("tokenizer.ggml.tokens", GgufValueType.Array).U32((uint)GgufValueType.String).U64(1UL << 61).Zeros(64).ToArray(),
            "array of 2305843009213693952 String elements", "tokenizer.ggml.tokens"),
        ["string array element longer than the file"] = new(() => new RawGguf().Header(0, 1).Kv("tokens", GgufValueType.Array).U32((uint)GgufValueType.String).U64(2).Str("ok").U64(1UL << 40).Zeros(64).ToArray(),
            "'tokens[1]': string of 1099511627776 bytes runs past the end", "tokens"),
        ["tensor past the end"] = new(() => new RawGguf().Header(1, 0).Tensor("blk.0.attn_q.weight", [64, 64], F32, 0).PadTo(32).Zeros(100).ToArray(),
            "tensor 'blk.0.attn_q.weight': data [offset 96, 16384 bytes) runs past the end of the 196-byte file", "tensor 'blk.0.attn_q.weight'"),
        ["tensor offset far past the end"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [8], F32, 1UL << 62).PadTo(32).Zeros(32).ToArray(),
            "runs past the end", "tensor 'w'"),
        ["tensor offset beyond any file"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [8], F32, 1UL << 63).PadTo(32).Zeros(32).ToArray(),
            "data offset 9223372036854775808", "tensor 'w'"),
        ["overlapping tensors"] = new(() => new RawGguf().Header(2, 0).Tensor("a", [16], F32, 0).Tensor("b", [16], F32, 32).PadTo(32).Zeros(128).ToArray(),
            "tensor 'b': data [offset 128, 64 bytes) overlaps tensor 'a' [offset 96, 64 bytes)", "tensor 'b'"),
        ["rank 5"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [1, 1, 1, 1, 1], F32, 0).PadTo(32).Zeros(32).ToArray(),
            "tensor 'w': rank 5, must be 1 to 4", "tensor 'w'"),
        ["rank 0"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [], F32, 0).Zeros(64).ToArray(),
            "tensor 'w': rank 0", "tensor 'w'"),
        ["rank 2^31"] = new(() => new RawGguf().Header(1, 0).Str("w").U32(1u << 31).Zeros(64).ToArray(),
            "rank 2147483648", "tensor 'w'"),
        ["unaligned offset"] = new(() => new RawGguf().Header(2, 0).Tensor("a", [4], F32, 0).Tensor("b", [4], F32, 16).PadTo(32).Zeros(64).ToArray(),
            "tensor 'b': data offset 16 is not a multiple of the alignment 32", "tensor 'b'"),
        ["unknown tensor type 999"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [4], 999, 0).PadTo(32).Zeros(32).ToArray(),
            "tensor 'w': unknown ggml tensor type 999", "tensor 'w'"),
        ["retired tensor type 4"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [32], 4, 0).PadTo(32).Zeros(64).ToArray(),
            "unknown ggml tensor type 4", "tensor 'w'"),
        ["alignment 3"] = new(() => new RawGguf().Header(1, 1).Kv(GgufKeys.GeneralAlignment, GgufValueType.UInt32).U32(3).Tensor("w", [4], F32, 0).Zeros(64).ToArray(),
            "'general.alignment' = 3 is not a power of two", GgufKeys.GeneralAlignment),
        ["alignment 0"] = new(() => new RawGguf().Header(0, 1).Kv(GgufKeys.GeneralAlignment, GgufValueType.UInt32).U32(0).ToArray(),
            "'general.alignment' = 0 is not a power of two", GgufKeys.GeneralAlignment),
        ["alignment 2^31"] = new(() => new RawGguf().Header(0, 1).Kv(GgufKeys.GeneralAlignment, GgufValueType.UInt32).U32(1u << 31).ToArray(),
            "'general.alignment' = 2147483648", GgufKeys.GeneralAlignment),
        ["alignment stored as UInt64"] = new(() => new RawGguf().Header(0, 1).Kv(GgufKeys.GeneralAlignment, GgufValueType.UInt64).U64(32).ToArray(),
            "'general.alignment' is UInt64, must be UInt32", GgufKeys.GeneralAlignment),
        ["version 1"] = new(() => new RawGguf().Header(0, 0, version: 1).ToArray(),
            "GGUF version 1 is not supported", "version"),
        ["version 4"] = new(() => new RawGguf().Header(0, 0, version: 4).ToArray(),
            "GGUF version 4 is not supported", "version"),
        ["version 0"] = new(() => new RawGguf().Header(0, 0, version: 0).ToArray(),
            "GGUF version 0 is not supported", "version"),
        ["big-endian"] = new(() => new RawGguf().Bytes("GGUF"u8).Bytes([0, 0, 0, 3]).Bytes(new byte[16]).ToArray(),
            "big-endian", "version"),
        ["wrong magic"] = new(() => new RawGguf().Bytes("GGML"u8).U32(3).Zeros(16).ToArray(),
            "not a GGUF file: magic is 47474D4C ('GGML')", "magic"),
        ["empty file"] = new(() => [],
            "the GGUF magic at offset 0 needs 4 bytes, but the 0-byte file has only 0 left", "magic"),
        ["duplicate key"] = new(() => new RawGguf().Header(0, 2).Kv("general.name", GgufValueType.String).Str("a").Kv("general.name", GgufValueType.String).Str("b").ToArray(),
            "duplicate metadata key 'general.name'", "general.name"),
        ["empty key"] = new(() => new RawGguf().Header(0, 1).Kv("", GgufValueType.UInt8).U8(1).Zeros(16).ToArray(),
            "metadata key #0 is empty", "metadata #0"),
        ["duplicate tensor name"] = new(() => new RawGguf().Header(2, 0).Tensor("w", [8], F32, 0).Tensor("w", [8], F32, 32).PadTo(32).Zeros(64).ToArray(),
            "duplicate tensor name 'w'", "tensor 'w'"),
        ["empty tensor name"] = new(() => new RawGguf().Header(1, 0).Tensor("", [8], F32, 0).PadTo(32).Zeros(32).ToArray(),
            "tensor #0 has an empty name", "tensor #0"),
        ["tensor name of 64 bytes"] = new(() => new RawGguf().Header(1, 0).Tensor(new string('n', 64), [8], F32, 0).PadTo(32).Zeros(32).ToArray(),
            "length 64 exceeds the limit of 63 bytes", "tensor #0"),
        ["unknown value type 13"] = new(() => new RawGguf().Header(0, 1).Kv("k", (GgufValueType)13).Zeros(16).ToArray(),
            "metadata 'k': unknown value type 13", "k"),
        ["unknown array element type 13"] = new(() => new RawGguf().Header(0, 1).Kv("k", GgufValueType.Array).U32(13).U64(1).Zeros(16).ToArray(),
            "metadata 'k': unknown array element type 13", "k"),
        ["bool byte 2"] = new(() => new RawGguf().Header(0, 1).Kv("flag", GgufValueType.Bool).U8(2).ToArray(),
            "metadata 'flag': bool byte is 2, must be 0 or 1", "flag"),
        ["bool array byte 7"] = new(() => new RawGguf().Header(0, 1).Kv("flags", GgufValueType.Array).U32((uint)GgufValueType.Bool).U64(3).U8(1).U8(0).U8(7).ToArray(),
            "metadata 'flags[2]': bool byte is 7", "flags"),
        ["arrays nested 9 deep"] = new(() =>
        {
            var raw = new RawGguf().Header(0, 1).Kv("deep", GgufValueType.Array);
            for (int i = 0; i < 9; i++)
                raw.U32((uint)GgufValueType.Array).U64(1);
            return raw.U32((uint)GgufValueType.UInt8).U64(0).ToArray();
        }, "arrays nested more than 8 deep", "deep"),
        ["dimension 0"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [4, 0], F32, 0).PadTo(32).Zeros(32).ToArray(),
            "tensor 'w': dimension 1 is 0", "tensor 'w'"),
        ["dimension 2^63"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [1UL << 63], F32, 0).PadTo(32).Zeros(32).ToArray(),
            "tensor 'w': dimension 0 is 9223372036854775808", "tensor 'w'"),
        ["element count overflow"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [1UL << 32, 1UL << 32], F32, 0).PadTo(32).Zeros(32).ToArray(),
            "element count of shape [4294967296, 4294967296] overflows", "tensor 'w'"),
        ["byte size overflow"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [1UL << 31, 1UL << 31], F32, 0).PadTo(32).Zeros(32).ToArray(),
            "byte size of 4611686018427387904 F32 elements overflows", "tensor 'w'"),
        ["row not a whole number of blocks"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [33, 2], (uint)GgmlType.Q8_0, 0).PadTo(32).Zeros(128).ToArray(),
            "tensor 'w': row length 33 is not a multiple of the Q8_0 block size 32", "tensor 'w'"),
        ["data section past the end"] = new(() => new RawGguf().Header(1, 0).Tensor("w", [1], F32, 0).ToArray(),
            "the data section would start at offset 64", "data section"),
        ["truncated tensor info"] = new(() => new RawGguf().Header(1, 0).Str(new string('t', 30)).U32(2).U64(4).ToArray(),
            $"dimension 1 of tensor '{new string('t', 30)}' at offset 74 needs 8 bytes, but the 74-byte file has only 0 left", $"tensor '{new string('t', 30)}'"),
    };

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases.Keys)
            data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void LyingFileIsRefusedWithAMessageNamingTheProblem(string name)
    {
        var c = Cases[name];
        string path = _temp.File("lying.gguf");
        File.WriteAllBytes(path, c.Build());
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");
        Assert.StartsWith(path + ": ", e.Message);
        Assert.True(e.Message.Contains(c.Message, StringComparison.Ordinal), $"expected \"{c.Message}\" in: {e.Message}");
        Assert.Equal(c.Field, e.Field);
        Assert.NotNull(e.Offset);
    }

    /// <summary>A small but varied file: every kind of metadata and three tensors of two types.</summary>
    private static byte[] SampleFile()
    {
        var w = new GgufWriter();
        w.SetMetadata(GgufKeys.GeneralArchitecture, GgufValue.From("llama"));
        w.SetMetadata(GgufKeys.BlockCount("llama"), GgufValue.From(2u));
        w.SetMetadata(GgufKeys.AttentionLayerNormRmsEpsilon("llama"), GgufValue.From(1e-5f));
        w.SetMetadata(GgufKeys.TokenizerTokens, GgufValue.FromStrings(["<unk>", "<s>", "</s>", "▁a", "b"]));
        w.SetMetadata(GgufKeys.TokenizerScores, GgufValue.FromFloat32s([0, 0, 0, -1, -2]));
        w.SetMetadata(GgufKeys.TokenizerAddBosToken, GgufValue.From(true));
        w.SetMetadata("test.nested", GgufValue.FromArray(GgufArray.FromArrays([GgufArray.FromInt64s([1, -1]), GgufArray.FromBools([true])])));
        w.SetMetadata("test.u64", GgufValue.From(123UL));
        w.AddTensor("token_embd.weight", GgmlType.F32, [4, 5], new byte[80]);
        w.AddTensor("blk.0.attn_q.weight", GgmlType.Q8_0, [32, 3], new byte[3 * 34]);
        w.AddTensor("output_norm.weight", GgmlType.F32, [4], new byte[16]);
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        return ms.ToArray();
    }

    /// <summary>Opens <paramref name="bytes"/> from a file; returns the exception if it was a format error, fails on any other.</summary>
    private GgufFormatException? TryOpen(byte[] bytes, int length, string what)
    {
        string path = _temp.File("case.gguf");
        using (var f = File.Create(path))
            f.Write(bytes, 0, length);
        try
        {
            using var file = GgufFile.Open(path);
            foreach (var (_, value) in file.MetadataInOrder)
                _ = value.ToString();
            foreach (var t in file.Tensors)
                Assert.Equal(t.ByteSize, file.GetTensorBytes(t).Length);
            return null;
        }
        catch (GgufFormatException e)
        {
            return e;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of GgufFormatException: {e.Message}");
            return null;
        }
    }

    [Fact]
    public void EveryTruncationIsRefused()
    {
        byte[] sample = SampleFile();
        long dataOffset, dataEnd;
        string full = _temp.File("full.gguf");
        File.WriteAllBytes(full, sample);
        using (var file = GgufFile.Open(full))
        {
            dataOffset = file.DataOffset;
            dataEnd = file.Tensors.Max(t => t.FileOffset + t.ByteSize);
        }

        var sw = Stopwatch.StartNew();
        var lengths = Enumerable.Range(0, (int)dataOffset + 1).Concat(Enumerable.Range(0, sample.Length + 1).Where(n => n % 5 == 0 && n > dataOffset)).Append(sample.Length - 1);
        int refused = 0;
        foreach (int n in lengths.Distinct())
        {
            var e = TryOpen(sample, n, $"prefix of {n} bytes");
            if (n < dataEnd)
            {
                Assert.True(e is not null, $"a {n}-byte prefix of a {sample.Length}-byte file was accepted");
                refused++;
            }
            else
            {
                // Only the last tensor's trailing padding is missing: the file is still whole.
                Assert.True(e is null, $"a {n}-byte prefix holding every tensor was refused: {e?.Message}");
            }
        }
        Assert.True(refused > dataOffset);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }

    [Fact]
    public void EveryHeaderByteSetToFFIsHandled()
    {
        byte[] sample = SampleFile();
        var sw = Stopwatch.StartNew();
        int refused = 0, headerLength = HeaderLength(sample);
        for (int i = 0; i < headerLength; i++)
        {
            if (sample[i] == 0xFF)
                continue;
            var copy = (byte[])sample.Clone();
            copy[i] = 0xFF;
            if (TryOpen(copy, copy.Length, $"byte {i} set to 0xFF") is not null)
                refused++;
        }
        // Length prefixes, counts, type tags and dimensions all break the file when saturated.
        Assert.True(refused > headerLength / 4, $"only {refused} of {headerLength} corruptions refused");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }

    [Fact]
    public void RandomByteFlipsInTheHeaderEndInFormatExceptionsOrValidFiles()
    {
        byte[] sample = SampleFile();
        int headerLength = HeaderLength(sample);
        var random = new Random(20251128);
        var sw = Stopwatch.StartNew();
        int refused = 0, accepted = 0;
        for (int iteration = 0; iteration < 1000; iteration++)
        {
            var copy = (byte[])sample.Clone();
            int flips = 1 + random.Next(3);
            var where = new List<int>();
            for (int f = 0; f < flips; f++)
            {
                int i = random.Next(headerLength);
                copy[i] ^= (byte)(1 << random.Next(8));
                where.Add(i);
            }
            if (TryOpen(copy, copy.Length, $"iteration {iteration}, flips at {string.Join(",", where)}") is null)
                accepted++;
            else
                refused++;
        }
        Assert.True(refused > 0 && accepted > 0, $"{refused} refused, {accepted} accepted");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
    }

    private int HeaderLength(byte[] sample)
    {
        string path = _temp.File("header.gguf");
        File.WriteAllBytes(path, sample);
        using var file = GgufFile.Open(path);
        return (int)file.DataOffset;
    }
}
