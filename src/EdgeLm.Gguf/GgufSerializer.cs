using System.Buffers.Binary;

namespace EdgeLm.Gguf;

/// <summary>Encodes metadata values in GGUF's little-endian layout (the inverse of the parser's value reading).</summary>
internal static class GgufSerializer
{
    /// <summary>u64 byte length, then the bytes.</summary>
    public static void WriteString(BinaryWriter w, ReadOnlySpan<byte> utf8)
    {
        w.Write((ulong)utf8.Length);
        w.Write(utf8);
    }

    /// <summary>u32 type tag, then the value.</summary>
    public static void WriteTypedValue(BinaryWriter w, GgufValue v)
    {
        w.Write((uint)v.Type);
        switch (v.Type)
        {
            case GgufValueType.String:
                WriteString(w, v.RawUtf8);
                break;
            case GgufValueType.Array:
                WriteArray(w, v.AsArray());
                break;
            default:
                Span<byte> bytes = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(bytes, v.RawBits);
                w.Write(bytes[..GgufValueTypeInfo.FixedSize(v.Type)]);
                break;
        }
    }

    /// <summary>u32 element type, u64 count, then the elements (no per-element type tags).</summary>
    public static void WriteArray(BinaryWriter w, GgufArray a)
    {
        w.Write((uint)a.ElementType);
        w.Write((ulong)a.Count);
        switch (a.ElementType)
        {
            case GgufValueType.String:
                for (int i = 0; i < a.Count; i++)
                    WriteString(w, a.GetUtf8(i));
                break;
            case GgufValueType.Array:
                for (int i = 0; i < a.Count; i++)
                    WriteArray(w, a.Nested(i));
                break;
            default:
                w.Write(a.PrimitiveBytes);
                break;
        }
    }

    /// <summary>How deeply arrays nest inside <paramref name="v"/> (0 for a scalar or string).</summary>
    public static int ArrayDepth(GgufValue v) => v.Type == GgufValueType.Array ? ArrayDepth(v.AsArray()) : 0;

    private static int ArrayDepth(GgufArray a)
    {
        int deepest = 0;
        if (a.ElementType == GgufValueType.Array)
        {
            for (int i = 0; i < a.Count; i++)
                deepest = Math.Max(deepest, ArrayDepth(a.Nested(i)));
        }
        return 1 + deepest;
    }
}
