using System.Text;

namespace EdgeLm.Tokenizers.Unicode;

/// <summary>
/// GPT-2's reversible byte-to-character map used by byte-level BPE: the printable bytes '!'..'~', '¡'..'¬' and
/// '®'..'ÿ' stand for themselves; the other 68 bytes (control characters, space, 0x7F..0xA0, 0xAD) are given the
/// characters U+0100, U+0101, ... in byte order. So a space is 'Ġ' (U+0120) and a newline 'Ċ' (U+010A).
/// </summary>
internal static class ByteLevel
{
    private static readonly char[] s_byteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> s_charToByte = BuildCharToByte();

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char CharOf(byte value) => s_byteToChar[value];

    /// <summary>The byte a character stands for, if it is one of the 256 mapped characters.</summary>
    public static bool TryGetByte(char c, out byte value) => s_charToByte.TryGetValue(c, out value);

    /// <summary>Encodes text as UTF-8 and maps every byte to its character.</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text)];
        Encoding.UTF8.GetBytes(text, bytes);
        return string.Create(bytes.Length, bytes, static (chars, source) =>
        {
            for (int i = 0; i < source.Length; i++)
                chars[i] = s_byteToChar[source[i]];
        });
    }

    private static bool StandsForItself(int b) => b is (>= 0x21 and <= 0x7E) or (>= 0xA1 and <= 0xAC) or (>= 0xAE and <= 0xFF);

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
            map[b] = StandsForItself(b) ? (char)b : (char)next++;
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++)
            map[s_byteToChar[b]] = (byte)b;
        return map;
    }
}
