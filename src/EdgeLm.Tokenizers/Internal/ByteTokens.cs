using System.Globalization;

namespace EdgeLm.Tokenizers.Internal;

/// <summary>Byte-fallback tokens written "&lt;0xXX&gt;" (SentencePiece and some BPE vocabularies).</summary>
internal static class ByteTokens
{
    private static readonly string[] s_names = Enumerable.Range(0, 256).Select(b => $"<0x{b:X2}>").ToArray();

    /// <summary>The token for one byte: "&lt;0xXX&gt;", else the byte as a one-character token (ASCII only).</summary>
    public static int IdOf(VocabularyTable table, byte value)
    {
        if (table.TryGetId(s_names[value], out int id))
            return id;
        if (value < 0x80 && table.TryGetId(((char)value).ToString(), out id))
            return id;
        throw new TokenizerFormatException($"The vocabulary has no byte-fallback token for byte 0x{value:X2} (<0x{value:X2}>).");
    }

    /// <summary>The byte a "&lt;0xXX&gt;" token stands for.</summary>
    public static byte ValueOf(string text)
    {
        if (text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
            && byte.TryParse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte value))
            return value;
        throw new TokenizerFormatException($"Byte token '{text}' is not of the form <0xXX>.");
    }
}
