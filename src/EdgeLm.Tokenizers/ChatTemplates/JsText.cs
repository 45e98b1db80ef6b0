using System.Globalization;
using System.Numerics;
using System.Text;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// The JavaScript text rules that Hugging Face's reference Jinja engine (@huggingface/jinja) inherits from its host:
/// what counts as whitespace, how numbers print and parse, JSON string quoting, case mapping. Matching these is what
/// makes our output byte-identical to the reference, so each rule here names the JavaScript operation it copies.
/// </summary>
internal static class JsText
{
    /// <summary>JavaScript's <c>\s</c> / <c>String.prototype.trim</c> set: WhiteSpace plus LineTerminator.</summary>
    public static bool IsWhitespace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00a0' or '\u1680' or '\u2028' or '\u2029' or '\u202f'
            or '\u205f' or '\u3000' or '\ufeff' => true,
        >= '\u2000' and <= '\u200a' => true,
        _ => false,
    };

    /// <summary>JavaScript's <c>\w</c>: ASCII letters, digits and underscore.</summary>
    public static bool IsWordChar(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';

    /// <summary>A line terminator for a multiline-mode <c>^</c>.</summary>
    public static bool IsLineTerminator(char c) => c is '\n' or '\r' or '\u2028' or '\u2029';

    public static string Trim(string s) => TrimEnd(TrimStart(s));

    public static string TrimStart(string s)
    {
        int i = 0;
        while (i < s.Length && IsWhitespace(s[i])) i++;
        return i == 0 ? s : s[i..];
    }

    public static string TrimEnd(string s)
    {
        int end = s.Length;
        while (end > 0 && IsWhitespace(s[end - 1])) end--;
        return end == s.Length ? s : s[..end];
    }

    /// <summary>
    /// <c>toUpperCase</c>. Invariant upper-casing; JavaScript's full case mapping differs only for a few characters
    /// that change length (such as "ß" becoming "SS").
    /// </summary>
    public static string ToUpper(string s) => s.ToUpperInvariant();

    /// <summary><c>toLowerCase</c>, with the same caveat as <see cref="ToUpper"/>.</summary>
    public static string ToLower(string s) => s.ToLowerInvariant();

    /// <summary>JavaScript's <c>Number.isInteger</c>: finite and without a fractional part.</summary>
    public static bool IsInteger(double d) => double.IsFinite(d) && Math.Floor(d) == d;

    /// <summary>JavaScript's <c>String(number)</c> (Number::toString): shortest round-trip digits, decimal notation
    /// for exponents in [-7, 21), otherwise <c>1.5e+21</c> style.</summary>
    public static string NumberToString(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "Infinity";
        if (double.IsNegativeInfinity(d)) return "-Infinity";
        if (d == 0) return "0";

        // .NET's "R" gives the same shortest round-trip digits as JavaScript, in its own notation: re-lay them out.
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int exponent = 0;
        int e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }
        int dot = r.IndexOf('.');
        string intPart = dot >= 0 ? r[..dot] : r;
        string all = dot >= 0 ? intPart + r[(dot + 1)..] : intPart;
        // value = 0.all * 10^n
        int n = intPart.Length + exponent;
        int lead = 0;
        while (lead < all.Length - 1 && all[lead] == '0') lead++;
        all = all[lead..];
        n -= lead;
        string digits = all.TrimEnd('0');
        int k = digits.Length;

        var sb = new StringBuilder();
        if (d < 0) sb.Append('-');
        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            int exp = n - 1;
            sb.Append(digits[0]);
            if (k > 1) sb.Append('.').Append(digits, 1, k - 1);
            sb.Append('e').Append(exp >= 0 ? '+' : '-').Append(Math.Abs(exp).ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>JavaScript's <c>n.toFixed(1)</c> for a whole number <paramref name="d"/>.</summary>
    public static string WholeToFixed1(double d)
    {
        if (Math.Abs(d) >= 1e21) return NumberToString(d);
        return new BigInteger(d).ToString(CultureInfo.InvariantCulture) + ".0";
    }

    /// <summary><c>JSON.stringify(string)</c>: quotes, backslash escapes, <c>\u00XX</c> for other control
    /// characters and for unpaired surrogates; everything else (non-ASCII included) verbatim.</summary>
    public static string JsonQuote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20)
                    {
                        AppendUnicodeEscape(sb, c);
                    }
                    else if (char.IsHighSurrogate(c))
                    {
                        if (i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                        {
                            sb.Append(c).Append(s[i + 1]);
                            i++;
                        }
                        else
                        {
                            AppendUnicodeEscape(sb, c);
                        }
                    }
                    else if (char.IsLowSurrogate(c))
                    {
                        AppendUnicodeEscape(sb, c);
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        sb.Append('"');
        return sb.ToString();
    }

    /// <summary>The reference's <c>ensure_ascii</c>: every UTF-16 unit from U+007F up becomes <c>\uxxxx</c>.</summary>
    public static string EscapeNonAscii(string json)
    {
        var sb = new StringBuilder(json.Length);
        foreach (char c in json)
        {
            if (c >= 0x7f) AppendUnicodeEscape(sb, c);
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static void AppendUnicodeEscape(StringBuilder sb, char c) =>
        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));

    /// <summary><c>parseInt(s, 10)</c>: leading whitespace, a sign, then as many decimal digits as there are;
    /// NaN without any digit.</summary>
    public static double ParseInt(string s)
    {
        int i = 0;
        while (i < s.Length && IsWhitespace(s[i])) i++;
        bool negative = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            negative = s[i] == '-';
            i++;
        }
        int start = i;
        while (i < s.Length && s[i] is >= '0' and <= '9') i++;
        if (i == start) return double.NaN;
        double value = double.Parse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
        return negative ? -value : value;
    }

    /// <summary><c>parseFloat(s)</c>: the longest decimal-literal prefix after leading whitespace; NaN if none.</summary>
    public static double ParseFloat(string s)
    {
        int i = 0;
        while (i < s.Length && IsWhitespace(s[i])) i++;
        int start = i;
        bool negative = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            negative = s[i] == '-';
            i++;
        }
        if (s.AsSpan(i).StartsWith("Infinity", StringComparison.Ordinal))
            return negative ? double.NegativeInfinity : double.PositiveInfinity;
        int end = ScanDecimalLiteral(s, i);
        if (end < 0) return double.NaN;
        return double.Parse(s.AsSpan(start, end - start), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>The end of the longest <c>digits[.digits][e[+-]digits]</c> (or <c>.digits...</c>) at
    /// <paramref name="i"/>, or -1 when there is no digit in the mantissa.</summary>
    private static int ScanDecimalLiteral(string s, int i)
    {
        int mantissaDigits = 0;
        while (i < s.Length && s[i] is >= '0' and <= '9') { i++; mantissaDigits++; }
        if (i < s.Length && s[i] == '.')
        {
            int j = i + 1;
            int frac = 0;
            while (j < s.Length && s[j] is >= '0' and <= '9') { j++; frac++; }
            if (mantissaDigits + frac > 0)
            {
                mantissaDigits += frac;
                i = j;
            }
        }
        if (mantissaDigits == 0) return -1;
        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            int j = i + 1;
            if (j < s.Length && (s[j] == '+' || s[j] == '-')) j++;
            int expStart = j;
            while (j < s.Length && s[j] is >= '0' and <= '9') j++;
            if (j > expStart) i = j;
        }
        return i;
    }

    /// <summary>JavaScript's <c>ToNumber(string)</c>, used by loose equality: trimmed, empty is 0, decimal,
    /// <c>Infinity</c> or a 0x/0o/0b integer must fill the whole string, otherwise NaN.</summary>
    public static double StringToNumber(string s)
    {
        s = Trim(s);
        if (s.Length == 0) return 0;
        if (s.Length > 2 && s[0] == '0' && (s[1] | 0x20) is 'x' or 'o' or 'b')
        {
            int radix = (s[1] | 0x20) switch { 'x' => 16, 'o' => 8, _ => 2 };
            double value = 0;
            for (int j = 2; j < s.Length; j++)
            {
                int digit = s[j] switch
                {
                    >= '0' and <= '9' => s[j] - '0',
                    >= 'a' and <= 'f' => s[j] - 'a' + 10,
                    >= 'A' and <= 'F' => s[j] - 'A' + 10,
                    _ => 99,
                };
                if (digit >= radix) return double.NaN;
                value = value * radix + digit;
            }
            return value;
        }
        int i = 0;
        bool negative = false;
        if (s[0] == '+' || s[0] == '-')
        {
            negative = s[0] == '-';
            i = 1;
        }
        if (s.AsSpan(i).SequenceEqual("Infinity"))
            return negative ? double.NegativeInfinity : double.PositiveInfinity;
        int end = ScanDecimalLiteral(s, i);
        if (end != s.Length) return double.NaN;
        return double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>JavaScript's <c>/\b\w/g</c> upper-casing that the reference uses for <c>title</c>: every ASCII word
    /// character that follows a non-word character (or starts the string) is upper-cased; nothing is lower-cased.</summary>
    public static string TitleCase(string s)
    {
        var chars = s.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (IsWordChar(chars[i]) && (i == 0 || !IsWordChar(chars[i - 1])))
                chars[i] = char.ToUpperInvariant(chars[i]);
        }
        return new string(chars);
    }

    /// <summary>The code points of a string as strings (JavaScript's <c>Array.from(string)</c>); an unpaired
    /// surrogate stays a one-unit element.</summary>
    public static List<string> CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                list.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                list.Add(s[i].ToString());
            }
        }
        return list;
    }
}
