namespace EdgeLm.Runtime.Grammar;

/// <summary>
/// Reads llama.cpp's GBNF: rules <c>name ::= alternatives</c>; string literals with escapes (<c>\n \r \t \\ \" \[ \]
/// \xNN \uNNNN \UNNNNNNNN</c>); character classes <c>[a-z]</c>, <c>[^"\\]</c>; any character <c>.</c>; groups;
/// repetition <c>* + ? {m} {m,} {m,n}</c>; <c>#</c> comments. A rule ends at a line break followed by the next
/// <c>name ::=</c> or the end of the text; inside parentheses, and before a line starting with <c>|</c>, lines continue.
/// </summary>
internal sealed class GbnfParser
{
    /// <summary>The largest repetition count accepted (each count becomes grammar rules).</summary>
    public const int MaxRepetition = 100_000;

    private readonly string _text;
    private int _pos;

    private GbnfParser(string text) => _text = text;

    /// <summary>Parses <paramref name="text"/> into its rules, in order of definition.</summary>
    /// <exception cref="GrammarException">A syntax error, with its line and column.</exception>
    public static List<GbnfRule> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new GbnfParser(text);
        var rules = new List<GbnfRule>();
        parser.SkipSpace();
        while (!parser.AtEnd)
        {
            rules.Add(parser.ParseRule());
            parser.SkipSpace();
        }
        return rules;
    }

    private bool AtEnd => _pos >= _text.Length;
    private char Current => _text[_pos];

    private GbnfRule ParseRule()
    {
        var (line, column) = Position(_pos);
        string name = ParseName("a rule name");
        SkipSpace();
        if (!_text.AsSpan(_pos).StartsWith("::="))
            throw Error("Expected '::=' after the rule name '" + name + "'");
        _pos += 3;
        var alternatives = ParseAlternatives(nested: false);
        return new GbnfRule(name, alternatives, line, column);
    }

    private List<List<GbnfItem>> ParseAlternatives(bool nested)
    {
        var alternatives = new List<List<GbnfItem>> { ParseSequence(nested) };
        while (!AtEnd && Current == '|')
        {
            _pos++;
            alternatives.Add(ParseSequence(nested));
        }
        return alternatives;
    }

    // A sequence ends before '|', before ')' (nested), at the end of the text, or (top level) at a line break that
    // is followed by the next rule's "name ::=".
    private List<GbnfItem> ParseSequence(bool nested)
    {
        var items = new List<GbnfItem>();
        while (true)
        {
            bool crossedLine = SkipSpace();
            if (AtEnd)
            {
                if (nested)
                    throw Error("Unclosed '(': the text ends inside a group");
                return items;
            }
            char c = Current;
            if (c == '|' || (c == ')' && nested))
                return items;
            if (!nested && crossedLine && LooksLikeRuleStart())
                return items;
            if (c == ')')
                throw Error("Unexpected ')' without a matching '('");
            if (IsPostfix(c))
            {
                if (items.Count == 0)
                    throw Error($"'{c}' has nothing before it to repeat");
                items[^1] = ParsePostfix(items[^1]);
                continue;
            }
            items.Add(ParsePrimary());
        }
    }

    private static bool IsPostfix(char c) => c is '*' or '+' or '?' or '{';

    private GbnfItem ParsePostfix(GbnfItem item)
    {
        var (line, column) = Position(_pos);
        char c = Current;
        _pos++;
        switch (c)
        {
            case '*': return new GbnfRepeat(item, 0, -1, line, column);
            case '+': return new GbnfRepeat(item, 1, -1, line, column);
            case '?': return new GbnfRepeat(item, 0, 1, line, column);
        }
        SkipInlineSpace();
        int? min = ParseCount();
        SkipInlineSpace();
        int max;
        if (!AtEnd && Current == ',')
        {
            _pos++;
            SkipInlineSpace();
            max = ParseCount() ?? -1;
            SkipInlineSpace();
        }
        else
        {
            max = min ?? throw Error("Expected a number after '{'");
        }
        if (AtEnd || Current != '}')
            throw Error("Expected '}' to close the repetition");
        _pos++;
        int low = min ?? 0;
        if (max != -1 && max < low)
            throw new GrammarException($"Repetition {{{low},{max}}} has a maximum below its minimum", line, column);
        return new GbnfRepeat(item, low, max, line, column);
    }

    private int? ParseCount()
    {
        int start = _pos;
        while (!AtEnd && char.IsAsciiDigit(Current))
            _pos++;
        if (_pos == start)
            return null;
        if (_pos - start > 6 || int.Parse(_text.AsSpan(start, _pos - start)) > MaxRepetition)
            throw new GrammarException($"Repetition count {_text[start.._pos]} is larger than {MaxRepetition}", Position(start).Line, Position(start).Column);
        return int.Parse(_text.AsSpan(start, _pos - start));
    }

    private GbnfItem ParsePrimary()
    {
        var (line, column) = Position(_pos);
        char c = Current;
        if (c == '"')
            return ParseLiteral(line, column);
        if (c == '[')
            return ParseClass(line, column);
        if (c == '.')
        {
            _pos++;
            return new GbnfClass([], Negated: true, line, column);
        }
        if (c == '(')
        {
            _pos++;
            var alternatives = ParseAlternatives(nested: true);
            if (AtEnd || Current != ')')
                throw Error("Expected ')' to close the group");
            _pos++;
            return new GbnfGroup(alternatives, line, column);
        }
        if (IsNameChar(c))
        {
            string name = ParseName("a rule name");
            return new GbnfReference(name, line, column);
        }
        throw Error($"Unexpected character '{Printable(c)}'");
    }

    private GbnfLiteral ParseLiteral(int line, int column)
    {
        _pos++; // opening quote
        var codePoints = new List<int>();
        while (true)
        {
            if (AtEnd || Current is '\n' or '\r')
                throw new GrammarException("Unterminated string literal", line, column);
            if (Current == '"')
            {
                _pos++;
                return new GbnfLiteral([.. codePoints], line, column);
            }
            int cp = ParseChar();
            if (cp is >= 0xD800 and <= 0xDFFF)
                throw Error($"The literal holds the lone surrogate U+{cp:X4}, which UTF-8 cannot encode");
            codePoints.Add(cp);
        }
    }

    private GbnfClass ParseClass(int line, int column)
    {
        _pos++; // '['
        bool negated = false;
        if (!AtEnd && Current == '^')
        {
            negated = true;
            _pos++;
        }
        var ranges = new List<(int, int)>();
        while (true)
        {
            if (AtEnd || Current is '\n' or '\r')
                throw new GrammarException("Unterminated character class", line, column);
            if (Current == ']')
            {
                _pos++;
                return new GbnfClass(ranges, negated, line, column);
            }
            int low = ParseChar();
            int high = low;
            if (_pos + 1 < _text.Length && Current == '-' && _text[_pos + 1] != ']')
            {
                _pos++;
                high = ParseChar();
                if (high < low)
                    throw Error($"The class range U+{low:X4}-U+{high:X4} is reversed");
            }
            ranges.Add((low, high));
        }
    }

    // One character of a literal or class, with escapes; returns its code point.
    private int ParseChar()
    {
        if (Current != '\\')
        {
            int cp = CodePointAt(_text, _pos, out int width);
            _pos += width;
            return cp;
        }
        if (_pos + 1 >= _text.Length)
            throw Error("The text ends inside an escape");
        char e = _text[_pos + 1];
        _pos += 2;
        switch (e)
        {
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case '0': return 0;
            case '\\': case '"': case '\'': case '[': case ']': case '-': case '^': case '/':
                return e;
            case 'x': return ParseHex(2);
            case 'u': return ParseHex(4);
            case 'U': return ParseHex(8);
            default:
                _pos -= 2;
                throw Error($"Unknown escape '\\{Printable(e)}'");
        }
    }

    private int ParseHex(int digits)
    {
        int start = _pos;
        long value = 0;
        for (int i = 0; i < digits; i++)
        {
            if (AtEnd || !char.IsAsciiHexDigit(Current))
                throw Error($"Expected {digits} hexadecimal digits in the escape");
            value = value * 16 + Convert.ToInt32(Current.ToString(), 16);
            _pos++;
        }
        if (value > Utf8Ranges.MaxCodePoint)
        {
            var (line, column) = Position(start);
            throw new GrammarException($"Code point 0x{value:X} is beyond U+10FFFF", line, column);
        }
        return (int)value;
    }

    private string ParseName(string what)
    {
        int start = _pos;
        while (!AtEnd && IsNameChar(Current))
            _pos++;
        if (_pos == start)
            throw Error($"Expected {what}");
        return _text[start.._pos];
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';

    // After a line break: is the next thing "name ::="? (Does not move.)
    private bool LooksLikeRuleStart()
    {
        int p = _pos;
        while (p < _text.Length && IsNameChar(_text[p]))
            p++;
        if (p == _pos)
            return false;
        while (p < _text.Length && _text[p] is ' ' or '\t')
            p++;
        return _text.AsSpan(p).StartsWith("::=");
    }

    /// <summary>Skips spaces, line breaks and comments; returns whether a line break was crossed.</summary>
    private bool SkipSpace()
    {
        bool crossed = false;
        while (!AtEnd)
        {
            char c = Current;
            if (c == '#')
            {
                while (!AtEnd && Current != '\n')
                    _pos++;
            }
            else if (c == '\n' || c == '\r')
            {
                crossed = true;
                _pos++;
            }
            else if (c == ' ' || c == '\t')
            {
                _pos++;
            }
            else
            {
                break;
            }
        }
        return crossed;
    }

    private void SkipInlineSpace()
    {
        while (!AtEnd && Current is ' ' or '\t')
            _pos++;
    }

    private GrammarException Error(string message)
    {
        var (line, column) = Position(_pos);
        return new GrammarException(message, line, column);
    }

    private (int Line, int Column) Position(int offset)
    {
        int line = 1, column = 1;
        for (int i = 0; i < offset && i < _text.Length; i++)
        {
            if (_text[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }
        return (line, column);
    }

    private static string Printable(char c) => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString();

    /// <summary>The code point at <paramref name="index"/> (a surrogate pair counts as one), and its UTF-16 width.</summary>
    private static int CodePointAt(string text, int index, out int width)
    {
        if (char.IsHighSurrogate(text[index]) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(text[index], text[index + 1]);
        }
        width = 1;
        return text[index];
    }
}
