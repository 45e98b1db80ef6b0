namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// Variables visible at one point of a render: its own plus its parent's. As in the reference engine, a <c>for</c>
/// loop and a macro call open a child scope (so <c>set</c> inside a loop does not leak out; use a namespace), while
/// <c>if</c> blocks share their enclosing scope. Macros see the scope they are called from.
/// </summary>
internal sealed class Scope(Scope? parent = null)
{
    private readonly Dictionary<string, Value> _variables = new(StringComparer.Ordinal);

    public Scope? Parent { get; } = parent;

    /// <summary>The nearest definition of <paramref name="name"/>, or undefined.</summary>
    public Value Lookup(string name)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._variables.TryGetValue(name, out var value)) return value;
        }
        return UndefinedValue.Instance;
    }

    /// <summary>Sets a variable in this scope (shadowing any outer one).</summary>
    public void Set(string name, Value value) => _variables[name] = value;

    /// <summary>Defines a variable that must not exist in this scope yet (globals and render variables).</summary>
    public bool TryDeclare(string name, Value value) => _variables.TryAdd(name, value);
}
