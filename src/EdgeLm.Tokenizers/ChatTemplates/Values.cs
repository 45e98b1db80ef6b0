namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// A value while a template runs. The kinds and their names (used in error messages) mirror the reference engine's
/// runtime values, because several behaviours hang on the exact kind: a tuple is an array that cannot be turned into
/// JSON, keyword arguments are a mapping, and so on.
/// </summary>
internal abstract class Value
{
    /// <summary>The reference engine's name for this kind ("StringValue", "TupleValue", ...).</summary>
    public abstract string TypeName { get; }

    /// <summary>Python-like truthiness (<c>__bool__</c>): empty strings, arrays and mappings are false.</summary>
    public abstract bool IsTruthy { get; }
}

/// <summary>A missing variable, attribute or item: renders as nothing and is false.</summary>
internal sealed class UndefinedValue : Value
{
    public static readonly UndefinedValue Instance = new();
    private UndefinedValue() { }
    public override string TypeName => "UndefinedValue";
    public override bool IsTruthy => false;
}

/// <summary><c>none</c> / JSON null.</summary>
internal sealed class NullValue : Value
{
    public static readonly NullValue Instance = new();
    private NullValue() { }
    public override string TypeName => "NullValue";
    public override bool IsTruthy => false;
}

internal sealed class BooleanValue : Value
{
    public static readonly BooleanValue True = new(true);
    public static readonly BooleanValue False = new(false);
    private BooleanValue(bool value) => Value = value;
    public bool Value { get; }
    public static BooleanValue Of(bool value) => value ? True : False;
    public override string TypeName => "BooleanValue";
    public override bool IsTruthy => Value;
}

/// <summary>
/// A number. As in the reference (JavaScript), every number is a double; <see cref="IsInteger"/> records whether it
/// is an integer value in Jinja's sense (literal <c>2</c> versus <c>2.0</c>, <c>7 // 2</c> versus <c>7 / 2</c>),
/// which decides how it prints and what arithmetic results in.
/// </summary>
internal sealed class NumberValue : Value
{
    public NumberValue(double value, bool isInteger)
    {
        Value = value;
        IsInteger = isInteger;
    }

    public double Value { get; }
    public bool IsInteger { get; }
    public static NumberValue Integer(double value) => new(value, true);
    public static NumberValue Float(double value) => new(value, false);
    public override string TypeName => IsInteger ? "IntegerValue" : "FloatValue";
    public override bool IsTruthy => Value != 0 && !double.IsNaN(Value);
}

internal sealed class StringValue : Value
{
    public static readonly StringValue Empty = new("");
    public StringValue(string value) => Value = value;
    public string Value { get; }
    public override string TypeName => "StringValue";
    public override bool IsTruthy => Value.Length > 0;
}

/// <summary>A list, or a tuple (<c>(a, b)</c> literal). Equality between arrays is by identity of
/// <see cref="Items"/>, as in the reference.</summary>
internal sealed class ArrayValue : Value
{
    public ArrayValue(List<Value> items, bool isTuple = false)
    {
        Items = items;
        IsTuple = isTuple;
    }

    public List<Value> Items { get; }
    public bool IsTuple { get; }
    public override string TypeName => IsTuple ? "TupleValue" : "ArrayValue";
    public override bool IsTruthy => Items.Count > 0;
}

/// <summary>A mapping with insertion order (a JSON object, a dict literal, <c>loop</c>, keyword arguments).</summary>
internal sealed class ObjectValue : Value
{
    public ObjectValue(OrderedDictionary<string, Value> entries, bool isKeywordArguments = false)
    {
        Entries = entries;
        IsKeywordArguments = isKeywordArguments;
    }

    public OrderedDictionary<string, Value> Entries { get; }

    /// <summary>The bundle of <c>name=value</c> arguments passed as the last argument of a call.</summary>
    public bool IsKeywordArguments { get; }

    public override string TypeName => IsKeywordArguments ? "KeywordArgumentsValue" : "ObjectValue";
    public override bool IsTruthy => Entries.Count > 0;
}

/// <summary>The mutable object made by <c>namespace(...)</c>; the only thing <c>set a.b = ...</c> may assign to.
/// Always true, like any JavaScript object in the reference.</summary>
internal sealed class NamespaceValue : Value
{
    public NamespaceValue(OrderedDictionary<string, Value> entries) => Entries = entries;
    public OrderedDictionary<string, Value> Entries { get; }
    public override string TypeName => "NamespaceValue";
    public override bool IsTruthy => true;
}

/// <summary>A callable: a global, a built-in method bound to its receiver, or a macro. It receives the positional
/// arguments (keyword arguments, if any, as a trailing keyword-arguments object) and the caller's scope.</summary>
internal sealed class FunctionValue : Value
{
    public FunctionValue(string name, Func<List<Value>, Scope, Value> body)
    {
        Name = name;
        Body = body;
    }

    public string Name { get; }
    public Func<List<Value>, Scope, Value> Body { get; }
    public Value Invoke(List<Value> args, Scope scope) => Body(args, scope);
    public override string TypeName => "FunctionValue";
    public override bool IsTruthy => true;
}
