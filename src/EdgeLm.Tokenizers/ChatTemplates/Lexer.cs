using System.Globalization;
using System.Text;

namespace EdgeLm.Tokenizers.ChatTemplates;

internal enum TokenType
{
    Text,
    NumericLiteral,
    StringLiteral,
    Identifier,
    Equals,
    OpenParen,
    CloseParen,
    OpenStatement,
    CloseStatement,
    OpenExpression,
    CloseExpression,
    OpenSquareBracket,
    CloseSquareBracket,
    OpenCurlyBracket,
    CloseCurlyBracket,
    Comma,
    Dot,
    Colon,
    Pipe,
    AdditiveBinaryOperator,
    MultiplicativeBinaryOperator,
    ExponentiationBinaryOperator,
    ComparisonBinaryOperator,
    UnaryOperator,
    Comment,
}

/// <summary>A token: its kind, its text (unescaped for string literals) and its offset in the preprocessed text.</summary>
internal readonly record struct Token(TokenType Type, string Value, int Position);

/// <summary>
/// Splits preprocessed template text into tokens exactly as the reference lexer does, quirks included:
/// <c>{%-</c>/<c>{{-</c> trim the previous text's trailing whitespace and <c>-%}</c>/<c>-}}</c> skip the following
/// whitespace; a <c>-</c> or <c>+</c> after an operator or opening bracket is a sign and is glued to a following number;
/// <c>}}</c> inside a dict literal closes the dict, not the expression; string escapes are <c>\n \t \r \b \f \v \' \" \\</c>,
/// <c>\xHH</c> and <c>\uHHHH</c>, anything else after a backslash is an error.
/// </summary>
internal sealed class Lexer
{
    private static readonly (string Text, TokenType Type)[] Symbols =
    [
        ("{%", TokenType.OpenStatement),
        ("%}", TokenType.CloseStatement),
        ("{{", TokenType.OpenExpression),
        ("}}", TokenType.CloseExpression),
        ("(", TokenType.OpenParen),
        (")", TokenType.CloseParen),
        ("{", TokenType.OpenCurlyBracket),
        ("}", TokenType.CloseCurlyBracket),
        ("[", TokenType.OpenSquareBracket),
        ("]", TokenType.CloseSquareBracket),
        (",", TokenType.Comma),
        (".", TokenType.Dot),
        (":", TokenType.Colon),
        ("|", TokenType.Pipe),
        ("<=", TokenType.ComparisonBinaryOperator),
        (">=", TokenType.ComparisonBinaryOperator),
        ("==", TokenType.ComparisonBinaryOperator),
        ("!=", TokenType.ComparisonBinaryOperator),
        ("<", TokenType.ComparisonBinaryOperator),
        (">", TokenType.ComparisonBinaryOperator),
        ("+", TokenType.AdditiveBinaryOperator),
        ("-", TokenType.AdditiveBinaryOperator),
        ("~", TokenType.AdditiveBinaryOperator),
        ("**", TokenType.ExponentiationBinaryOperator),
        ("*", TokenType.MultiplicativeBinaryOperator),
        ("//", TokenType.MultiplicativeBinaryOperator),
        ("/", TokenType.MultiplicativeBinaryOperator),
        ("%", TokenType.MultiplicativeBinaryOperator),
        ("=", TokenType.Equals),
    ];

    private readonly string _src;
    private readonly List<Token> _tokens = [];
    private int _pos;

    private Lexer(string src) => _src = src;

    public static List<Token> Tokenize(string preprocessed)
    {
        var lexer = new Lexer(preprocessed);
        lexer.Run();
        return lexer._tokens;
    }

    private char At(int i) => i < _src.Length ? _src[i] : '\0';

    private bool Follows(string s) => _src.AsSpan(_pos).StartsWith(s, StringComparison.Ordinal);

    private TokenType? LastType => _tokens.Count == 0 ? null : _tokens[^1].Type;

    private void Run()
    {
        int curlyDepth = 0;
        while (_pos < _src.Length)
        {
            var last = LastType;
            if (last is null or TokenType.CloseStatement or TokenType.CloseExpression or TokenType.Comment)
            {
                int start = _pos;
                while (_pos < _src.Length && !(_src[_pos] == '{' && At(_pos + 1) is '%' or '{' or '#')) _pos++;
                if (_pos > start)
                {
                    _tokens.Add(new Token(TokenType.Text, _src[start.._pos], start));
                    continue;
                }
            }

            if (_src[_pos] == '{' && At(_pos + 1) == '#')
            {
                LexComment();
                continue;
            }

            if (Follows("{%-"))
            {
                StripTrailingWhitespace();
                _tokens.Add(new Token(TokenType.OpenStatement, "{%", _pos));
                _pos += 3;
                continue;
            }
            if (Follows("{{-"))
            {
                StripTrailingWhitespace();
                _tokens.Add(new Token(TokenType.OpenExpression, "{{", _pos));
                curlyDepth = 0;
                _pos += 3;
                continue;
            }

            ConsumeWhile(JsText.IsWhitespace);

            if (Follows("-%}"))
            {
                _tokens.Add(new Token(TokenType.CloseStatement, "%}", _pos));
                _pos += 3;
                SkipWhitespace();
                continue;
            }
            if (Follows("-}}"))
            {
                _tokens.Add(new Token(TokenType.CloseExpression, "}}", _pos));
                _pos += 3;
                SkipWhitespace();
                continue;
            }

            int tokenStart = _pos;
            char c = At(_pos);
            if (c is '-' or '+')
            {
                var prev = LastType;
                if (prev is null or TokenType.Text)
                    throw new SyntaxFault($"Unexpected character: {c}", _pos);
                if (prev is not (TokenType.Identifier or TokenType.NumericLiteral or TokenType.StringLiteral
                    or TokenType.CloseParen or TokenType.CloseSquareBracket))
                {
                    // A sign: glued to a following number literal, else a unary operator.
                    _pos++;
                    string num = ConsumeWhile(IsDigit);
                    if (num.Length > 0 && At(_pos) == '.' && IsDigit(At(_pos + 1)))
                    {
                        _pos++;
                        num = num + "." + ConsumeWhile(IsDigit);
                    }
                    _tokens.Add(new Token(num.Length > 0 ? TokenType.NumericLiteral : TokenType.UnaryOperator, c + num, tokenStart));
                    continue;
                }
            }

            bool matched = false;
            foreach (var (text, type) in Symbols)
            {
                if (text == "}}" && curlyDepth > 0) continue;
                if (!Follows(text)) continue;
                _tokens.Add(new Token(type, text, _pos));
                if (type == TokenType.OpenExpression) curlyDepth = 0;
                else if (type == TokenType.OpenCurlyBracket) curlyDepth++;
                else if (type == TokenType.CloseCurlyBracket) curlyDepth--;
                _pos += text.Length;
                matched = true;
                break;
            }
            if (matched) continue;

            if (c is '\'' or '"')
            {
                _pos++;
                if (_pos >= _src.Length) throw new SyntaxFault("Unexpected end of input in a string literal", tokenStart);
                string str = ConsumeWhile(ch => ch != c, tokenStart);
                _tokens.Add(new Token(TokenType.StringLiteral, str, tokenStart));
                _pos++;
                continue;
            }

            if (IsDigit(c))
            {
                string num = ConsumeWhile(IsDigit);
                if (LastType != TokenType.Dot && At(_pos) == '.' && IsDigit(At(_pos + 1)))
                {
                    _pos++;
                    num = num + "." + ConsumeWhile(IsDigit);
                }
                _tokens.Add(new Token(TokenType.NumericLiteral, num, tokenStart));
                continue;
            }

            if (JsText.IsWordChar(c))
            {
                _tokens.Add(new Token(TokenType.Identifier, ConsumeWhile(JsText.IsWordChar), tokenStart));
                continue;
            }

            throw new SyntaxFault($"Unexpected character: {c}", _pos);
        }
    }

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private void LexComment()
    {
        int start = _pos;
        _pos += 2;
        bool stripBefore = At(_pos) == '-';
        if (stripBefore) _pos++;
        int bodyStart = _pos;
        while (At(_pos) != '#' || At(_pos + 1) != '}')
        {
            if (_pos + 2 >= _src.Length) throw new SyntaxFault("Missing end of comment tag", start);
            _pos++;
        }
        string comment = _src[bodyStart.._pos];
        bool stripAfter = comment.EndsWith('-');
        if (stripAfter) comment = comment[..^1];
        if (stripBefore) StripTrailingWhitespace();
        _tokens.Add(new Token(TokenType.Comment, comment, start));
        _pos += 2;
        if (stripAfter) SkipWhitespace();
    }

    private void StripTrailingWhitespace()
    {
        if (_tokens.Count == 0 || _tokens[^1].Type != TokenType.Text) return;
        var last = _tokens[^1];
        string trimmed = JsText.TrimEnd(last.Value);
        if (trimmed.Length == 0) _tokens.RemoveAt(_tokens.Count - 1);
        else _tokens[^1] = last with { Value = trimmed };
    }

    private void SkipWhitespace()
    {
        while (_pos < _src.Length && JsText.IsWhitespace(_src[_pos])) _pos++;
    }

    /// <summary>
    /// The reference's <c>consumeWhile</c>: takes characters while <paramref name="predicate"/> holds, decoding
    /// backslash escapes; running into the end of the text while consuming is an error (reported at
    /// <paramref name="startOfConstruct"/> when given, e.g. the opening quote of a string).
    /// </summary>
    private string ConsumeWhile(Func<char, bool> predicate, int startOfConstruct = -1)
    {
        var sb = new StringBuilder();
        while (_pos < _src.Length && predicate(_src[_pos]))
        {
            if (_src[_pos] == '\\')
            {
                int escapeStart = _pos;
                _pos++;
                if (_pos >= _src.Length) throw new SyntaxFault("Unexpected end of input", escapeStart);
                char escaped = _src[_pos++];
                if (escaped is 'x' or 'u')
                {
                    int length = escaped == 'x' ? 2 : 4;
                    string hex = _pos + length <= _src.Length ? _src.Substring(_pos, length) : _src[_pos..];
                    if (hex.Length != length || !hex.All(Uri.IsHexDigit))
                        throw new SyntaxFault($"Invalid hexadecimal escape sequence: \\{escaped}{hex}", escapeStart);
                    sb.Append((char)int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    _pos += length;
                    continue;
                }
                char? unescaped = escaped switch
                {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    'b' => '\b',
                    'f' => '\f',
                    'v' => '\v',
                    '\'' => '\'',
                    '"' => '"',
                    '\\' => '\\',
                    _ => null,
                };
                if (unescaped is null) throw new SyntaxFault($"Unexpected escaped character: {escaped}", escapeStart);
                sb.Append(unescaped.Value);
                continue;
            }
            sb.Append(_src[_pos++]);
            if (_pos >= _src.Length)
            {
                throw startOfConstruct >= 0
                    ? new SyntaxFault("Unexpected end of input in a string literal", startOfConstruct)
                    : new SyntaxFault("Unexpected end of input", _pos - 1);
            }
        }
        return sb.ToString();
    }
}
