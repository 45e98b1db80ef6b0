using System.Globalization;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>The expression half of the parser: one method per precedence level, loosest first.</summary>
internal sealed partial class Parser
{

    private Node ParseExpression()
    {
        using var _ = Nest();
        return ParseIfExpression();
    }

    private DepthGuard Nest()
    {
        if (++_depth > MaxDepth)
        {
            _depth--;
            throw Error($"Template nested deeper than {MaxDepth} levels");
        }
        return new DepthGuard(this);
    }

    private readonly struct DepthGuard(Parser parser) : IDisposable
    {
        public void Dispose() => parser._depth--;
    }

    /// <summary>Comma-separated expressions (a tuple when there is a comma), e.g. set targets and loop variables.</summary>
    private Node ParseExpressionSequence(bool primaryOnly)
    {
        int pos = Pos(Peek());
        var first = primaryOnly ? ParsePrimary() : ParseExpression();
        if (!Is(TokenType.Comma)) return first;
        var items = new List<Node> { first };
        while (true)
        {
            _current++;
            items.Add(primaryOnly ? ParsePrimary() : ParseExpression());
            if (!Is(TokenType.Comma)) break;
        }
        return new TupleLiteral(pos, items);
    }

    private Node ParseIfExpression()
    {
        var a = ParseOr();
        if (!IsIdentifier("if")) return a;
        _current++;
        var test = ParseOr();
        if (IsIdentifier("else"))
        {
            _current++;
            var otherwise = ParseIfExpression();
            return new Ternary(a.Position, test, a, otherwise);
        }
        return new SelectExpression(a.Position, a, test);
    }

    private Node ParseOr()
    {
        var left = ParseAnd();
        while (IsIdentifier("or"))
        {
            _current++;
            left = new BinaryExpression(left.Position, "or", left, ParseAnd());
        }
        return left;
    }

    private Node ParseAnd()
    {
        var left = ParseNot();
        while (IsIdentifier("and"))
        {
            _current++;
            left = new BinaryExpression(left.Position, "and", left, ParseNot());
        }
        return left;
    }

    private Node ParseNot()
    {
        using var _ = Nest();
        Node? result = null;
        while (IsIdentifier("not"))
        {
            int pos = Pos(Peek());
            _current++;
            result = new UnaryExpression(pos, "not", ParseNot());
        }
        return result ?? ParseComparison();
    }

    private Node ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            string op;
            if (IsIdentifier("not", "in"))
            {
                op = "not in";
                _current += 2;
            }
            else if (IsIdentifier("in"))
            {
                op = "in";
                _current++;
            }
            else if (Is(TokenType.ComparisonBinaryOperator))
            {
                op = _tokens[_current++].Value;
            }
            else
            {
                return left;
            }
            left = new BinaryExpression(left.Position, op, left, ParseAdditive());
        }
    }

    private Node ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Is(TokenType.AdditiveBinaryOperator))
        {
            string op = _tokens[_current++].Value;
            left = new BinaryExpression(left.Position, op, left, ParseMultiplicative());
        }
        return left;
    }

    private Node ParseMultiplicative()
    {
        var left = ParsePower();
        while (Is(TokenType.MultiplicativeBinaryOperator))
        {
            string op = _tokens[_current++].Value;
            left = new BinaryExpression(left.Position, op, left, ParsePower());
        }
        return left;
    }

    private Node ParsePower()
    {
        var left = ParseTest();
        while (Is(TokenType.ExponentiationBinaryOperator))
        {
            _current++;
            left = new BinaryExpression(left.Position, "**", left, ParseTest());
        }
        return left;
    }

    private Node ParseTest()
    {
        var operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            _current++;
            bool negate = IsIdentifier("not");
            if (negate) _current++;
            var at = Peek();
            var test = ParsePrimary();
            if (test is not Identifier id) throw Error("Expected a test name after 'is'", at);
            operand = new TestExpression(operand.Position, operand, negate, id.Name);
        }
        return operand;
    }

    private Node ParseFilter()
    {
        var operand = ParseUnarySign();
        while (Is(TokenType.Pipe))
        {
            _current++;
            var at = Peek();
            Node filter = ParsePrimary();
            if (filter is not Identifier) throw Error("Expected a filter name after '|'", at);
            if (Is(TokenType.OpenParen)) filter = ParseCallExpression(filter);
            operand = new FilterExpression(operand.Position, operand, filter);
        }
        return operand;
    }

    private Node ParseUnarySign()
    {
        using var _ = Nest();
        if (_current < _tokens.Count)
        {
            var t = _tokens[_current];
            if (t.Type is TokenType.UnaryOperator or TokenType.AdditiveBinaryOperator && t.Value is "-" or "+")
            {
                _current++;
                return new UnaryExpression(Pos(t), t.Value, ParseUnarySign());
            }
        }
        return ParseCallMember();
    }

    private Node ParseCallMember()
    {
        var member = ParseMember(ParsePrimary());
        return Is(TokenType.OpenParen) ? ParseCallExpression(member) : member;
    }

    private Node ParseCallExpression(Node callee)
    {
        Node expr = new CallExpression(callee.Position, callee, ParseArgs(parameters: false));
        expr = ParseMember(expr);
        if (Is(TokenType.OpenParen)) expr = ParseCallExpression(expr);
        return expr;
    }

    /// <summary>
    /// A parenthesised argument list. In parameter mode (macro and call-block declarations) only names and
    /// <c>name=default</c> are allowed and no unpacking; in call mode positional arguments (and one <c>*x</c>) come
    /// before keyword ones, and <c>**x</c> must be last. Commas between arguments are optional, as in the reference.
    /// </summary>
    private List<Node> ParseArgs(bool parameters)
    {
        Expect(TokenType.OpenParen, "'('");
        var args = new List<Node>();
        var names = new HashSet<string>();
        bool sawKeyword = false, sawSpread = false;
        while (!Is(TokenType.CloseParen))
        {
            if (_current >= _tokens.Count) throw new SyntaxFault("Expected ')' but the template ended", _source.Text.Length);
            var start = _tokens[_current];
            bool keywordSpread = start.Type == TokenType.ExponentiationBinaryOperator;
            bool positionalSpread = start.Type == TokenType.MultiplicativeBinaryOperator && start.Value == "*";
            if (parameters && (keywordSpread || positionalSpread))
                throw Error("Argument unpacking is not allowed in parameter declarations", start);

            if (keywordSpread)
            {
                _current++;
                args.Add(new KeywordSpreadArgument(Pos(start), ParseExpression()));
                if (Is(TokenType.Comma)) _current++;
                if (!Is(TokenType.CloseParen)) throw Error("Expected ')': '**' must be applied to the final argument");
                break;
            }

            Node argument;
            if (positionalSpread)
            {
                if (sawSpread) throw Error("Only one '*' argument unpacking is allowed", start);
                sawSpread = true;
                _current++;
                argument = new SpreadArgument(Pos(start), ParseExpression());
            }
            else
            {
                argument = ParseExpression();
                if (Is(TokenType.Equals))
                {
                    _current++;
                    if (argument is not Identifier key)
                        throw Error(parameters ? "Expected identifier for parameter declaration" : "Expected identifier for keyword argument", start);
                    argument = new KeywordArgument(argument.Position, key.Name, ParseExpression());
                }
                if (parameters)
                {
                    string name = argument switch
                    {
                        Identifier i => i.Name,
                        KeywordArgument k => k.Key,
                        _ => throw Error("Expected identifier for parameter declaration", start),
                    };
                    if (!names.Add(name)) throw Error($"Duplicate parameter name: {name}", start);
                }
                if (argument is KeywordArgument) sawKeyword = true;
                else if (sawKeyword)
                    throw Error(parameters ? "Non-default argument follows default argument" : "Positional arguments must come before keyword arguments", start);
                else if (sawSpread)
                    throw Error("Positional arguments must not follow '*' argument unpacking", start);
            }
            args.Add(argument);
            if (Is(TokenType.Comma)) _current++;
        }
        Expect(TokenType.CloseParen, "')'");
        return args;
    }

    /// <summary>Inside <c>[...]</c> after an object: an index expression or a slice <c>[start:stop:step]</c>.</summary>
    private Node ParseSubscript(int pos)
    {
        var parts = new List<Node?>();
        bool isSlice = false;
        while (!Is(TokenType.CloseSquareBracket))
        {
            if (_current >= _tokens.Count) throw new SyntaxFault("Expected ']' but the template ended", _source.Text.Length);
            if (Is(TokenType.Colon))
            {
                parts.Add(null);
                _current++;
                isSlice = true;
            }
            else
            {
                parts.Add(ParseExpression());
                if (Is(TokenType.Colon))
                {
                    _current++;
                    isSlice = true;
                }
            }
        }
        if (parts.Count == 0) throw Error("Expected at least one argument for member/slice expression");
        if (!isSlice) return parts[0]!;
        if (parts.Count > 3) throw Error("Expected 0-3 arguments for slice expression");
        return new SliceExpression(pos, parts[0], parts.Count > 1 ? parts[1] : null, parts.Count > 2 ? parts[2] : null);
    }

    private Node ParseMember(Node obj)
    {
        while (Is(TokenType.Dot) || Is(TokenType.OpenSquareBracket))
        {
            var op = _tokens[_current++];
            if (op.Type == TokenType.OpenSquareBracket)
            {
                var property = ParseSubscript(Pos(op));
                Expect(TokenType.CloseSquareBracket, "']'");
                obj = new MemberExpression(obj.Position, obj, property, true);
            }
            else
            {
                var at = Peek();
                var property = ParsePrimary();
                if (property is not (Identifier or IntegerLiteral))
                    throw Error("Expected identifier or integer following dot operator", at);
                obj = new MemberExpression(obj.Position, obj, property, false);
            }
        }
        return obj;
    }

    private Node ParsePrimary()
    {
        var t = Peek();
        _current++;
        int pos = Pos(t);
        switch (t.Type)
        {
            case TokenType.NumericLiteral:
            {
                double value = double.Parse(t.Value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
                return t.Value.Contains('.') ? new FloatLiteral(pos, value) : new IntegerLiteral(pos, value);
            }
            case TokenType.StringLiteral:
            {
                string value = t.Value;
                while (Is(TokenType.StringLiteral)) value += _tokens[_current++].Value;
                return new StringLiteral(pos, value);
            }
            case TokenType.Identifier:
                return new Identifier(pos, t.Value);
            case TokenType.OpenParen:
            {
                var expr = ParseExpressionSequence(primaryOnly: false);
                Expect(TokenType.CloseParen, "')'");
                return expr;
            }
            case TokenType.OpenSquareBracket:
            {
                var items = new List<Node>();
                while (!Is(TokenType.CloseSquareBracket))
                {
                    items.Add(ParseExpression());
                    if (Is(TokenType.Comma)) _current++;
                }
                _current++;
                return new ArrayLiteral(pos, items);
            }
            case TokenType.OpenCurlyBracket:
            {
                var entries = new List<(Node, Node)>();
                while (!Is(TokenType.CloseCurlyBracket))
                {
                    var key = ParseExpression();
                    Expect(TokenType.Colon, "':' between key and value in a dict literal");
                    entries.Add((key, ParseExpression()));
                    if (Is(TokenType.Comma)) _current++;
                }
                _current++;
                return new ObjectLiteral(pos, entries);
            }
            default:
                throw Error($"Unexpected {Describe(t)}", t);
        }
    }
}
