using System.Buffers;
using System.Globalization;
using System.Text;

namespace EdgeLm.Tokenizers.Unicode;

/// <summary>The one category llama.cpp gives each codepoint (its unicode_cpt_flags, minus the helper bits).</summary>
internal enum CodepointCategory : byte
{
    /// <summary>\p{L}</summary>
    Letter,
    /// <summary>\p{N}</summary>
    Number,
    /// <summary>\p{P}</summary>
    Punctuation,
    /// <summary>\p{S}</summary>
    Symbol,
    /// <summary>\p{M}</summary>
    AccentMark,
    /// <summary>\p{Z}</summary>
    Separator,
    /// <summary>\p{C}: control, format, surrogate, private use and unassigned codepoints.</summary>
    Control,
}

/// <summary>
/// Unicode facts the pre-tokenizers need, decided the way llama.cpp decides them: general categories grouped as above,
/// whitespace as the Unicode White_Space property, lowercase as the simple case mapping.
/// </summary>
internal static class Codepoints
{
    /// <summary>The category of a codepoint (0..0x10FFFF).</summary>
    public static CodepointCategory Category(int codepoint) => CharUnicodeInfo.GetUnicodeCategory(codepoint) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CodepointCategory.Letter,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            => CodepointCategory.Number,
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CodepointCategory.Punctuation,
        UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
            or UnicodeCategory.OtherSymbol => CodepointCategory.Symbol,
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            => CodepointCategory.AccentMark,
        UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            => CodepointCategory.Separator,
        _ => CodepointCategory.Control,
    };

    public static bool IsLetter(int codepoint) => Category(codepoint) == CodepointCategory.Letter;

    public static bool IsNumber(int codepoint) => Category(codepoint) == CodepointCategory.Number;

    /// <summary>The Unicode White_Space property (what Python's and Rust's \s match).</summary>
    public static bool IsWhitespace(int codepoint) => codepoint switch
    {
        >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>Simple (one-to-one) lowercase mapping.</summary>
    public static int ToLower(int codepoint) =>
        Rune.IsValid(codepoint) ? Rune.ToLowerInvariant(new Rune(codepoint)).Value : codepoint;

    /// <summary>
    /// Splits a string into codepoints. A lone surrogate becomes U+FFFD, as llama.cpp turns invalid UTF-8 into U+FFFD.
    /// </summary>
    public static int[] Decode(ReadOnlySpan<char> text)
    {
        var result = new List<int>(text.Length);
        for (int i = 0; i < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text[i..], out var rune, out int used) != OperationStatus.Done)
                rune = Rune.ReplacementChar;
            result.Add(rune.Value);
            i += used == 0 ? 1 : used;
        }
        return [.. result];
    }

    /// <summary>Appends a codepoint to a builder as UTF-16.</summary>
    public static void Append(StringBuilder builder, int codepoint)
    {
        if (codepoint < 0x10000)
            builder.Append((char)codepoint);
        else
            builder.Append(char.ConvertFromUtf32(codepoint));
    }
}
