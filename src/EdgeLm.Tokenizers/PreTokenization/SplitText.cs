using EdgeLm.Tokenizers.Unicode;

namespace EdgeLm.Tokenizers.PreTokenization;

/// <summary>
/// The text being pre-tokenized, seen as codepoints (fragment offsets count codepoints, as in llama.cpp), with each
/// codepoint's category and whitespace bit, and the "collapsed" form regexes with Unicode classes run on.
/// </summary>
internal sealed class SplitText
{
    private string? _collapsed;

    public SplitText(ReadOnlySpan<char> text)
    {
        Codepoints = Unicode.Codepoints.Decode(text);
        Categories = new CodepointCategory[Codepoints.Length];
        Whitespace = new bool[Codepoints.Length];
        for (int i = 0; i < Codepoints.Length; i++)
        {
            Categories[i] = Unicode.Codepoints.Category(Codepoints[i]);
            Whitespace[i] = Unicode.Codepoints.IsWhitespace(Codepoints[i]);
        }
    }

    public int[] Codepoints { get; }

    public CodepointCategory[] Categories { get; }

    public bool[] Whitespace { get; }

    public int Length => Codepoints.Length;

    /// <summary>
    /// One char per codepoint: ASCII stays; any other codepoint becomes a stand-in for its class, so that regexes
    /// written with \p{..} can run with ASCII-only classes (llama.cpp's trick, kept for identical splits):
    /// whitespace -> '\v', number -> U+00D1, letter -> U+00D2, punctuation -> U+00D3, accent mark -> U+00D4,
    /// symbol -> U+00D5, anything else -> U+00D0.
    /// </summary>
    public string Collapsed => _collapsed ??= BuildCollapsed();

    private string BuildCollapsed() => string.Create(Codepoints.Length, this, static (chars, self) =>
    {
        for (int i = 0; i < chars.Length; i++)
        {
            int cp = self.Codepoints[i];
            chars[i] = cp < 128 ? (char)cp
                : self.Whitespace[i] ? '\v'
                : self.Categories[i] switch
                {
                    CodepointCategory.Number => CollapsedClass.Number,
                    CodepointCategory.Letter => CollapsedClass.Letter,
                    CodepointCategory.Punctuation => CollapsedClass.Punctuation,
                    CodepointCategory.AccentMark => CollapsedClass.AccentMark,
                    CodepointCategory.Symbol => CollapsedClass.Symbol,
                    _ => CollapsedClass.Other,
                };
        }
    });
}

/// <summary>The stand-in characters of the collapsed text, and the regex class contents each \p{..} turns into.</summary>
internal static class CollapsedClass
{
    public const char Other = '\u00D0';
    public const char Number = '\u00D1';
    public const char Letter = '\u00D2';
    public const char Punctuation = '\u00D3';
    public const char AccentMark = '\u00D4';
    public const char Symbol = '\u00D5';

    /// <summary>
    /// Class contents for a Unicode category: its stand-in plus its ASCII members. As in llama.cpp, \p{Lu}, \p{Ll},
    /// \p{Lt}, \p{Lm}, \p{Lo} all mean every letter, and '~' is in no class (llama.cpp's ASCII symbol list omits it).
    /// </summary>
    public static string? ContentsFor(string category) => category switch
    {
        "N" => @"\xD1\x30-\x39",
        "L" or "Lu" or "Ll" or "Lt" or "Lm" or "Lo" => @"\xD2\x41-\x5A\x61-\x7A",
        "P" => @"\xD3\x21-\x23\x25-\x2A\x2C-\x2F\x3A-\x3B\x3F-\x40\x5B-\x5D\x5F\x7B\x7D",
        "M" => @"\xD4",
        "S" => @"\xD5\x24\x2B\x3C-\x3E\x5E\x60\x7C",
        _ => null,
    };
}
