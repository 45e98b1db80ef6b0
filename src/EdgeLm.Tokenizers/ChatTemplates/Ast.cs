namespace EdgeLm.Tokenizers.ChatTemplates;

// The syntax tree. Every node records the offset of its first token in the ORIGINAL template source, so render
// errors can name a line and column. Statements render to text; expressions evaluate to values (a statement list
// renders each item's display text, skipping none/undefined).

internal abstract record Node(int Position);

/// <summary>Literal template text between tags (a string literal node, as in the reference).</summary>
internal sealed record StringLiteral(int Position, string Value) : Node(Position);

internal sealed record IntegerLiteral(int Position, double Value) : Node(Position);

internal sealed record FloatLiteral(int Position, double Value) : Node(Position);

internal sealed record ArrayLiteral(int Position, List<Node> Items) : Node(Position);

internal sealed record TupleLiteral(int Position, List<Node> Items) : Node(Position);

internal sealed record ObjectLiteral(int Position, List<(Node Key, Node Value)> Entries) : Node(Position);

internal sealed record Identifier(int Position, string Name) : Node(Position);

/// <summary><c>obj.name</c>, <c>obj.0</c> (not computed) or <c>obj[expr]</c> / <c>obj[a:b:c]</c> (computed).</summary>
internal sealed record MemberExpression(int Position, Node Object, Node Property, bool Computed) : Node(Position);

internal sealed record CallExpression(int Position, Node Callee, List<Node> Args) : Node(Position);

/// <summary>Binary operators, <c>and</c>/<c>or</c>, <c>in</c>/<c>not in</c>, comparisons.</summary>
internal sealed record BinaryExpression(int Position, string Operator, Node Left, Node Right) : Node(Position);

/// <summary><c>not x</c>, <c>-x</c>, <c>+x</c>.</summary>
internal sealed record UnaryExpression(int Position, string Operator, Node Argument) : Node(Position);

/// <summary><c>operand | filter</c> where the filter is an identifier or a call (anything else fails at render).</summary>
internal sealed record FilterExpression(int Position, Node Operand, Node Filter) : Node(Position);

/// <summary><c>operand is [not] test</c>.</summary>
internal sealed record TestExpression(int Position, Node Operand, bool Negate, string Test) : Node(Position);

/// <summary><c>value if condition</c> without <c>else</c>: undefined when the condition is false; in a <c>for</c>
/// header it filters the items.</summary>
internal sealed record SelectExpression(int Position, Node Value, Node Condition) : Node(Position);

internal sealed record Ternary(int Position, Node Condition, Node WhenTrue, Node WhenFalse) : Node(Position);

internal sealed record SliceExpression(int Position, Node? Start, Node? Stop, Node? Step) : Node(Position);

internal sealed record KeywordArgument(int Position, string Key, Node Value) : Node(Position);

/// <summary><c>*args</c> in a call.</summary>
internal sealed record SpreadArgument(int Position, Node Argument) : Node(Position);

/// <summary><c>**kwargs</c> in a call.</summary>
internal sealed record KeywordSpreadArgument(int Position, Node Argument) : Node(Position);

internal sealed record ProgramNode(int Position, List<Node> Body) : Node(Position);

internal sealed record CommentNode(int Position) : Node(Position);

/// <summary><c>if</c>; an <c>elif</c> is a nested If as the only alternate statement.</summary>
internal sealed record IfStatement(int Position, Node Test, List<Node> Body, List<Node> Alternate) : Node(Position);

/// <summary><c>for target in iterable</c> (target an identifier or tuple), with the <c>else</c> block.</summary>
internal sealed record ForStatement(int Position, Node Target, Node Iterable, List<Node> Body, List<Node> Else) : Node(Position);

internal sealed record BreakStatement(int Position) : Node(Position);

internal sealed record ContinueStatement(int Position) : Node(Position);

/// <summary><c>set target = value</c>, or a block set (<see cref="Value"/> null, the body rendered).</summary>
internal sealed record SetStatement(int Position, Node Target, Node? Value, List<Node> Body) : Node(Position);

/// <summary>A macro parameter: a name with an optional default.</summary>
internal sealed record Parameter(string Name, Node? Default);

internal sealed record MacroStatement(int Position, string Name, List<Parameter> Parameters, List<Node> Body,
    bool UsesKwargs, bool UsesVarargs) : Node(Position);

/// <summary><c>{% call(params) macro(args) %}body{% endcall %}</c>.</summary>
internal sealed record CallBlock(int Position, CallExpression Call, List<Parameter> CallerParameters, List<Node> Body,
    bool UsesKwargs, bool UsesVarargs) : Node(Position);

/// <summary><c>{% filter f %}body{% endfilter %}</c>.</summary>
internal sealed record FilterBlock(int Position, Node Filter, List<Node> Body) : Node(Position);
