using System.Globalization;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// Builds the syntax tree from tokens with the reference engine's grammar and precedence, loosest first:
/// <c>a if c else b</c>, <c>or</c>, <c>and</c>, <c>not</c>, comparisons and <c>in</c>/<c>not in</c>, <c>+ - ~</c>,
/// <c>* / // %</c>, <c>**</c> (left-associative), <c>is</c> tests, <c>|</c> filters, unary signs, then member access
/// and calls. (So <c>-x|abs</c> is <c>(-x)|abs</c> and <c>a ~ b|upper</c> is <c>a ~ (b|upper)</c>.) Statements:
/// <c>set</c> (also block set and tuple targets), <c>if/elif/else</c>, <c>for ... [if ...] / else</c>, <c>macro</c>,
/// <c>call</c>, <c>filter</c>, <c>break</c>, <c>continue</c>.
/// </summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private readonly PreprocessedSource _source;
    private int _current;
    private int _depth;

    /// <summary>Deepest nesting of statements and expressions accepted, so a hostile template cannot exhaust the
    /// stack of the recursive-descent parser.</summary>
    private const int MaxDepth = 200;

    private Parser(List<Token> tokens, PreprocessedSource source)
    {
        _tokens = tokens;
        _source = source;
    }

    public static ProgramNode Parse(List<Token> tokens, PreprocessedSource source)
    {
        var parser = new Parser(tokens, source);
        var body = new List<Node>();
        while (parser._current < tokens.Count) body.Add(parser.ParseAny());
        return new ProgramNode(0, body);
    }

    // ---- token helpers

    private Token Peek(int offset = 0)
    {
        int i = _current + offset;
        if (i >= _tokens.Count) throw EndOfInput();
        return _tokens[i];
    }

    private SyntaxFault EndOfInput() =>
        new("Unexpected end of template", _tokens.Count == 0 ? _source.Text.Length : _source.Text.Length);

    private SyntaxFault Error(string message, Token? at = null) =>
        new(message, (at ?? (_current < _tokens.Count ? _tokens[_current] : _tokens[^1])).Position);

    private int Pos(Token t) => _source.OriginalOffset(t.Position);

    private bool Is(params TokenType[] types)
    {
        if (_current + types.Length > _tokens.Count) return false;
        for (int i = 0; i < types.Length; i++)
        {
            if (_tokens[_current + i].Type != types[i]) return false;
        }
        return true;
    }

    private bool IsIdentifier(params string[] names)
    {
        if (_current + names.Length > _tokens.Count) return false;
        for (int i = 0; i < names.Length; i++)
        {
            var t = _tokens[_current + i];
            if (t.Type != TokenType.Identifier || t.Value != names[i]) return false;
        }
        return true;
    }

    private bool IsStatement(params string[] names) =>
        _current + 1 < _tokens.Count
        && _tokens[_current].Type == TokenType.OpenStatement
        && _tokens[_current + 1].Type == TokenType.Identifier
        && names.Contains(_tokens[_current + 1].Value);

    private Token Expect(TokenType type, string what)
    {
        if (_current >= _tokens.Count) throw new SyntaxFault($"Expected {what} but the template ended", _source.Text.Length);
        var t = _tokens[_current];
        if (t.Type != type) throw Error($"Expected {what}, got {Describe(t)}", t);
        _current++;
        return t;
    }

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name))
        {
            if (_current >= _tokens.Count) throw new SyntaxFault($"Expected '{name}' but the template ended", _source.Text.Length);
            throw Error($"Expected '{name}', got {Describe(_tokens[_current])}");
        }
        _current++;
    }

    private static string Describe(Token t) => t.Type switch
    {
        TokenType.Text => "text",
        TokenType.StringLiteral => "a string literal",
        _ => $"'{t.Value}'",
    };

    /// <summary>Parses statements until one of <paramref name="endNames"/> opens a tag (not consumed).</summary>
    private List<Node> ParseBodyUntil(string opener, params string[] endNames)
    {
        var body = new List<Node>();
        while (!IsStatement(endNames))
        {
            if (_current >= _tokens.Count)
                throw new SyntaxFault($"Unclosed '{opener}': expected {{% {string.Join(" %} or {% ", endNames)} %}}", _source.Text.Length);
            body.Add(ParseAny());
        }
        return body;
    }

    private void ExpectEnd(string name)
    {
        Expect(TokenType.OpenStatement, "'{%'");
        ExpectIdentifier(name);
        Expect(TokenType.CloseStatement, "'%}'");
    }

    // ---- statements

    private Node ParseAny()
    {
        using var _ = Nest();
        var t = Peek();
        switch (t.Type)
        {
            case TokenType.Comment:
                _current++;
                return new CommentNode(Pos(t));
            case TokenType.Text:
                _current++;
                return new StringLiteral(Pos(t), t.Value);
            case TokenType.OpenStatement:
                return ParseStatement();
            case TokenType.OpenExpression:
            {
                _current++;
                var expr = ParseExpression();
                Expect(TokenType.CloseExpression, "'}}'");
                return expr;
            }
            default:
                throw Error($"Unexpected {Describe(t)}", t);
        }
    }

    private Node ParseStatement()
    {
        var open = Expect(TokenType.OpenStatement, "'{%'");
        var nameToken = Peek();
        if (nameToken.Type != TokenType.Identifier) throw Error($"Expected a statement name, got {Describe(nameToken)}", nameToken);
        int pos = Pos(open);
        _current++;
        switch (nameToken.Value)
        {
            case "set":
                return ParseSet(pos);
            case "if":
            {
                var result = ParseIf(pos);
                ExpectEnd("endif");
                return result;
            }
            case "for":
            {
                var result = ParseFor(pos);
                ExpectEnd("endfor");
                return result;
            }
            case "macro":
            {
                var result = ParseMacro(pos);
                ExpectEnd("endmacro");
                return result;
            }
            case "call":
            {
                List<Parameter> callerParameters = Is(TokenType.OpenParen) ? ToParameters(ParseArgs(parameters: true)) : [];
                var at = Peek();
                var callee = ParsePrimary();
                if (callee is not Identifier) throw Error("Expected a macro name after 'call'", at);
                var args = ParseArgs(parameters: false);
                Expect(TokenType.CloseStatement, "'%}'");
                var body = ParseBodyUntil("call", "endcall");
                ExpectEnd("endcall");
                var (kw, va) = SpecialArguments(callerParameters, body);
                return new CallBlock(pos, new CallExpression(callee.Position, callee, args), callerParameters, body, kw, va);
            }
            case "filter":
            {
                Node filter = ParsePrimary();
                if (filter is Identifier && Is(TokenType.OpenParen)) filter = ParseCallExpression(filter);
                Expect(TokenType.CloseStatement, "'%}'");
                var body = ParseBodyUntil("filter", "endfilter");
                ExpectEnd("endfilter");
                return new FilterBlock(pos, filter, body);
            }
            case "break":
                Expect(TokenType.CloseStatement, "'%}'");
                return new BreakStatement(pos);
            case "continue":
                Expect(TokenType.CloseStatement, "'%}'");
                return new ContinueStatement(pos);
            default:
                throw Error($"Unknown statement type: {nameToken.Value}", nameToken);
        }
    }

    private Node ParseSet(int pos)
    {
        var target = ParseExpressionSequence(primaryOnly: false);
        if (Is(TokenType.Equals))
        {
            _current++;
            var value = ParseExpressionSequence(primaryOnly: false);
            Expect(TokenType.CloseStatement, "'%}'");
            return new SetStatement(pos, target, value, []);
        }
        Expect(TokenType.CloseStatement, "'=' or '%}'");
        var body = ParseBodyUntil("set", "endset");
        ExpectEnd("endset");
        return new SetStatement(pos, target, null, body);
    }

    private IfStatement ParseIf(int pos)
    {
        var test = ParseExpression();
        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseBodyUntil("if", "elif", "else", "endif");
        var alternate = new List<Node>();
        if (IsStatement("elif"))
        {
            int elifPos = Pos(Peek());
            _current += 2;
            alternate.Add(ParseIf(elifPos));
        }
        else if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "'%}'");
            alternate = ParseBodyUntil("if", "endif");
        }
        return new IfStatement(pos, test, body, alternate);
    }

    private ForStatement ParseFor(int pos)
    {
        var at = Peek();
        var target = ParseExpressionSequence(primaryOnly: true);
        if (target is not (Identifier or TupleLiteral)) throw Error("Expected a name or a tuple of names as the loop variable", at);
        if (!IsIdentifier("in")) throw Error("Expected 'in' after the loop variable");
        _current++;
        var iterable = ParseExpression();
        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseBodyUntil("for", "endfor", "else");
        var elseBody = new List<Node>();
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "'%}'");
            elseBody = ParseBodyUntil("for", "endfor");
        }
        return new ForStatement(pos, target, iterable, body, elseBody);
    }

    private MacroStatement ParseMacro(int pos)
    {
        var at = Peek();
        var name = ParsePrimary();
        if (name is not Identifier id) throw Error("Expected a macro name", at);
        var parameters = ToParameters(ParseArgs(parameters: true));
        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseBodyUntil("macro", "endmacro");
        var (kw, va) = SpecialArguments(parameters, body);
        return new MacroStatement(pos, id.Name, parameters, body, kw, va);
    }

    private static List<Parameter> ToParameters(List<Node> args) =>
        args.Select(a => a switch
        {
            Identifier i => new Parameter(i.Name, null),
            KeywordArgument k => new Parameter(k.Key, k.Value),
            _ => throw new InvalidOperationException("ParseArgs(parameters: true) returns only names and defaults"),
        }).ToList();

    /// <summary>Whether a macro body reads <c>kwargs</c> / <c>varargs</c> (which then collect extra arguments)
    /// without declaring them as parameters.</summary>
    private static (bool Kwargs, bool Varargs) SpecialArguments(List<Parameter> parameters, List<Node> body)
    {
        bool kwargs = false, varargs = false;
        var stack = new Stack<object>(body);
        while (stack.Count > 0)
        {
            switch (stack.Pop())
            {
                case Identifier { Name: "kwargs" }: kwargs = true; break;
                case Identifier { Name: "varargs" }: varargs = true; break;
                case Node node:
                    foreach (var child in Children(node)) stack.Push(child);
                    break;
            }
        }
        bool declared(string n) => parameters.Any(p => p.Name == n);
        return (kwargs && !declared("kwargs"), varargs && !declared("varargs"));
    }

    private static IEnumerable<Node> Children(Node node)
    {
        IEnumerable<Node?> children = node switch
        {
            ArrayLiteral a => a.Items,
            TupleLiteral t => t.Items,
            ObjectLiteral o => o.Entries.SelectMany(e => new[] { e.Key, e.Value }),
            MemberExpression m => new Node?[] { m.Object, m.Computed ? m.Property : null },
            CallExpression c => [c.Callee, .. c.Args],
            BinaryExpression b => [b.Left, b.Right],
            UnaryExpression u => [u.Argument],
            FilterExpression f => new Node?[] { f.Operand, f.Filter is CallExpression fc ? new ArrayLiteral(0, fc.Args) : null },
            TestExpression t => [t.Operand],
            SelectExpression s => [s.Value, s.Condition],
            Ternary t => [t.Condition, t.WhenTrue, t.WhenFalse],
            SliceExpression s => new Node?[] { s.Start, s.Stop, s.Step },
            KeywordArgument k => [k.Value],
            SpreadArgument s => [s.Argument],
            KeywordSpreadArgument s => [s.Argument],
            IfStatement i => [i.Test, .. i.Body, .. i.Alternate],
            ForStatement f => [f.Iterable, .. f.Body, .. f.Else],
            SetStatement s => s.Body.Prepend(s.Value),
            CallBlock c => [new ArrayLiteral(0, c.Call.Args), .. c.Body],
            FilterBlock f => f.Body,
            _ => [],
        };
        return children.OfType<Node>();
    }

    // ---- expressions

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
