using System.Text;

namespace EdgeLm.Gguf.Tests;

/// <summary>
/// Writes GGUF fields one by one with no validation at all, to craft files that lie: counts, lengths, offsets and
/// types chosen by the test.
/// </summary>
internal sealed class RawGguf
{
    private readonly MemoryStream _stream = new();
    private readonly BinaryWriter _w;

    public RawGguf() => _w = new BinaryWriter(_stream);

    public long Length => _stream.Length;

    /// <summary>Magic, version, tensor count, metadata count.</summary>
    public RawGguf Header(ulong tensors, ulong metadata, uint version = 3) => Bytes("GGUF"u8).U32(version).U64(tensors).U64(metadata);

    public RawGguf Bytes(ReadOnlySpan<byte> bytes) { _w.Write(bytes); return this; }
    public RawGguf U8(byte v) { _w.Write(v); return this; }
    public RawGguf U32(uint v) { _w.Write(v); return this; }
    public RawGguf U64(ulong v) { _w.Write(v); return this; }
    public RawGguf Str(string s) { var b = Encoding.UTF8.GetBytes(s); return U64((ulong)b.Length).Bytes(b); }
    public RawGguf Zeros(long n) { _w.Write(new byte[n]); return this; }

    /// <summary>A key and a type tag; the caller writes the value.</summary>
    public RawGguf Kv(string key, GgufValueType type) => Str(key).U32((uint)type);

    /// <summary>name, rank, dims, type, offset.</summary>
    public RawGguf Tensor(string name, ulong[] dims, uint type, ulong offset)
    {
        Str(name).U32((uint)dims.Length);
        foreach (var d in dims)
            U64(d);
        return U32(type).U64(offset);
    }

    public RawGguf PadTo(int alignment) => Zeros((alignment - _stream.Length % alignment) % alignment);

    public byte[] ToArray() => _stream.ToArray();
}
