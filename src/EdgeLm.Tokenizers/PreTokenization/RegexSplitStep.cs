using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace EdgeLm.Tokenizers.PreTokenization;

/// <summary>
/// A split by a regular expression written in llama.cpp's dialect (ECMAScript-like, with \p{X} categories), run the
/// way llama.cpp runs it so the pieces are identical:
/// <list type="bullet">
/// <item>If the pattern uses a Unicode category, it runs on the collapsed text (one stand-in char per codepoint, see
/// <see cref="SplitText.Collapsed"/>) with each \p{X} replaced by that stand-in plus X's ASCII members.</item>
/// <item>Otherwise it runs on the text itself, with non-ASCII whitespace replaced by '\v' (what std::wregex's \s sees),
/// and literal ranges beyond the BMP rewritten as surrogate-pair alternatives.</item>
/// </list>
/// In both, \d means [0-9] and $ means the end of the fragment, as in ECMAScript.
/// </summary>
internal sealed class RegexSplitStep : SplitStep
{
    private static readonly string[] s_categories = ["N", "L", "P", "M", "S", "Lu", "Ll", "Lt", "Lm", "Lo"];

    private readonly Regex _regex;
    private readonly bool _collapsed;

    public RegexSplitStep(string pattern)
    {
        _collapsed = s_categories.Any(c => pattern.Contains(@"\p{" + c + "}", StringComparison.Ordinal));
        string translated = _collapsed ? TranslateCollapsed(pattern) : TranslateLiteral(pattern);
        _regex = new Regex(translated, RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    public override void Split(SplitText text, List<int> fragments, List<int> output)
    {
        int start = 0;
        foreach (int length in fragments)
        {
            if (_collapsed)
                SplitCollapsed(text.Collapsed.Substring(start, length), output);
            else
                SplitLiteral(text, start, length, output);
            start += length;
        }
    }

    private void SplitCollapsed(string fragment, List<int> output)
    {
        // One char per codepoint: match positions are codepoint offsets.
        int previousEnd = 0;
        for (var m = _regex.Match(fragment); m.Success; m = m.NextMatch())
        {
            if (m.Index > previousEnd)
                output.Add(m.Index - previousEnd);
            if (m.Length > 0)
                output.Add(m.Length);
            previousEnd = m.Index + m.Length;
        }
        if (previousEnd < fragment.Length)
            output.Add(fragment.Length - previousEnd);
    }

    private void SplitLiteral(SplitText text, int start, int length, List<int> output)
    {
        // UTF-16 text of the fragment, and for each UTF-16 index the codepoint offset it starts.
        var builder = new StringBuilder(length);
        var codepointAt = new int[length * 2 + 1];
        for (int i = 0; i < length; i++)
        {
            int cp = text.Codepoints[start + i];
            if (cp > 0x7F && text.Whitespace[start + i])
                cp = '\v';
            codepointAt[builder.Length] = i;
            Unicode.Codepoints.Append(builder, cp);
        }
        codepointAt[builder.Length] = length;
        string fragment = builder.ToString();

        int previousEnd = 0;
        for (var m = _regex.Match(fragment); m.Success; m = m.NextMatch())
        {
            int matchStart = codepointAt[m.Index], matchEnd = codepointAt[m.Index + m.Length];
            if (matchStart > previousEnd)
                output.Add(matchStart - previousEnd);
            if (matchEnd > matchStart)
                output.Add(matchEnd - matchStart);
            previousEnd = matchEnd;
        }
        if (previousEnd < length)
            output.Add(length - previousEnd);
    }

    /// <summary>Replaces \p{X} by the collapsed class contents (bracketed outside a class), \d by 0-9, $ by \z.</summary>
    internal static string TranslateCollapsed(string pattern)
    {
        var result = new StringBuilder(pattern.Length * 2);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char e = pattern[i + 1];
                if (e == 'p' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                {
                    int close = pattern.IndexOf('}', i + 3);
                    string? contents = close < 0 ? null : CollapsedClass.ContentsFor(pattern[(i + 3)..close]);
                    if (contents is null)
                        throw new NotSupportedException($"Unsupported Unicode class in pre-tokenizer regex '{pattern}'.");
                    result.Append(inClass ? contents : "[" + contents + "]");
                    i = close;
                    continue;
                }
                AppendEscape(result, e, inClass);
                i++;
                continue;
            }
            if (c > 0x7F)
                throw new NotSupportedException($"Pre-tokenizer regex '{pattern}' mixes Unicode classes with non-ASCII characters.");
            if (c == '[' && !inClass)
                inClass = true;
            else if (c == ']' && inClass)
                inClass = false;
            else if (c == '$' && !inClass)
            {
                result.Append(@"\z");
                continue;
            }
            result.Append(c);
        }
        return result.ToString();
    }

    /// <summary>
    /// Copies a pattern without Unicode classes, rewriting classes that hold codepoints beyond the BMP as an
    /// alternation of a BMP class and surrogate pairs (a .NET class holds UTF-16 units, not codepoints).
    /// </summary>
    internal static string TranslateLiteral(string pattern)
    {
        var result = new StringBuilder(pattern.Length * 2);
        var codepoints = Unicode.Codepoints.Decode(pattern);
        for (int i = 0; i < codepoints.Length; i++)
        {
            int c = codepoints[i];
            if (c == '\\' && i + 1 < codepoints.Length)
            {
                AppendEscape(result, (char)codepoints[++i], inClass: false);
                continue;
            }
            if (c == '[')
            {
                i = TranslateClass(codepoints, i, result);
                continue;
            }
            if (c == '$')
            {
                result.Append(@"\z");
                continue;
            }
            AppendLiteral(result, c);
        }
        return result.ToString();
    }

    /// <summary>Translates the class starting at codepoints[open] ('['); returns the index of its ']'.</summary>
    private static int TranslateClass(int[] codepoints, int open, StringBuilder result)
    {
        int i = open + 1;
        bool negated = i < codepoints.Length && codepoints[i] == '^';
        if (negated)
            i++;
        var bmp = new StringBuilder();
        var astral = new List<(int First, int Last)>();
        for (; i < codepoints.Length && codepoints[i] != ']'; i++)
        {
            if (codepoints[i] == '\\' && i + 1 < codepoints.Length)
            {
                AppendEscape(bmp, (char)codepoints[++i], inClass: true);
                continue;
            }
            int first = codepoints[i], last = first;
            if (i + 2 < codepoints.Length && codepoints[i + 1] == '-' && codepoints[i + 2] != ']')
            {
                last = codepoints[i + 2];
                i += 2;
            }
            if (last < 0x10000)
            {
                AppendLiteral(bmp, first);
                if (last != first)
                {
                    bmp.Append('-');
                    AppendLiteral(bmp, last);
                }
            }
            else if (first >= 0x10000)
                astral.Add((first, last));
            else
                throw new NotSupportedException("A pre-tokenizer regex class range crosses from the BMP to the supplementary planes.");
        }
        if (i >= codepoints.Length)
            throw new NotSupportedException("Unterminated class in pre-tokenizer regex.");

        if (astral.Count == 0)
        {
            result.Append('[').Append(negated ? "^" : "").Append(bmp).Append(']');
            return i;
        }
        if (negated)
            throw new NotSupportedException("Negated pre-tokenizer regex classes with supplementary-plane codepoints are not supported.");
        result.Append("(?:");
        if (bmp.Length > 0)
            result.Append('[').Append(bmp).Append("]|");
        foreach (var (first, last) in astral)
            AppendSurrogateRange(result, first, last);
        result.Length--; // trailing '|'
        result.Append(')');
        return i;
    }

    private static void AppendSurrogateRange(StringBuilder result, int first, int last)
    {
        for (int high = 0xD800 + ((first - 0x10000) >> 10); high <= 0xD800 + ((last - 0x10000) >> 10); high++)
        {
            int highFirst = 0x10000 + ((high - 0xD800) << 10);
            int lowFrom = Math.Max(first, highFirst), lowTo = Math.Min(last, highFirst + 0x3FF);
            result.Append(CultureInfo.InvariantCulture, $@"\u{high:X4}[\u{0xDC00 + (lowFrom & 0x3FF):X4}-\u{0xDC00 + (lowTo & 0x3FF):X4}]|");
        }
    }

    private static void AppendLiteral(StringBuilder result, int codepoint)
    {
        if (codepoint < 0x80 && codepoint >= 0x20)
            result.Append((char)codepoint);
        else if (codepoint < 0x10000)
            result.Append(CultureInfo.InvariantCulture, $@"\u{codepoint:X4}");
        else
            throw new NotSupportedException("Supplementary-plane literals outside a class are not supported in pre-tokenizer regexes.");
    }

    /// <summary>Copies an escape, making \d / \D ASCII-only as in ECMAScript.</summary>
    private static void AppendEscape(StringBuilder result, char escaped, bool inClass)
    {
        switch (escaped)
        {
            case 'd':
                result.Append(inClass ? "0-9" : "[0-9]");
                break;
            case 'D' when !inClass:
                result.Append("[^0-9]");
                break;
            case 'w' or 'W' or 'b' or 'B':
                throw new NotSupportedException($@"\{escaped} is not supported in pre-tokenizer regexes.");
            default:
                result.Append('\\').Append(escaped);
                break;
        }
    }
}
