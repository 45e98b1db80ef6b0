namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// Builds the syntax tree from tokens with the reference engine's grammar and precedence, loosest first:
/// <c>a if c else b</c>, <c>or</c>, <c>and</c>, <c>not</c>, comparisons and <c>in</c>/<c>not in</c>, <c>+ - ~</c>,
/// <c>* / // %</c>, <c>**</c> (left-associative), <c>is</c> tests, <c>|</c> filters, unary signs, then member access
/// and calls. (So <c>-x|abs</c> is <c>(-x)|abs</c> and <c>a ~ b|upper</c> is <c>a ~ (b|upper)</c>.) Statements:
/// <c>set</c> (also block set and tuple targets), <c>if/elif/else</c>, <c>for ... [if ...] / else</c>, <c>macro</c>,
/// <c>call</c>, <c>filter</c>, <c>break</c>, <c>continue</c>.
/// </summary>
internal sealed partial class Parser
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

    private SyntaxFault EndOfInput() => new("Unexpected end of template", _source.Text.Length);

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
}
