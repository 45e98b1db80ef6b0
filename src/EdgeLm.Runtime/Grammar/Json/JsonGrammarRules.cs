namespace EdgeLm.Runtime.Grammar.Json;

/// <summary>
/// The shared GBNF rules of JSON grammars: bounded whitespace, strings, numbers, and any JSON value. A schema's grammar
/// includes only the ones it uses (with their dependencies).
/// </summary>
internal static class JsonGrammarRules
{
    /// <summary>Most spaces or tabs after a line break in one whitespace run (llama.cpp bounds it alike): a small model
    /// cannot spend its whole budget on indentation.</summary>
    public const int MaxIndent = 20;

    private static readonly (string Name, string Body, string[] Uses)[] Definitions =
    [
        ("ws", $"| \" \" | \"\\n\" [ \\t]{{0,{MaxIndent}}}", []),
        ("json-hex", "[0-9a-fA-F]", []),
        // \u escapes of surrogates are left out, so that every escape is one whole code point (lengths stay exact).
        ("json-escape", "[\"\\\\/bfnrt] | \"u\" ([0-9a-cA-CeEfF] json-hex{3} | [dD] [0-7] json-hex{2})", ["json-hex"]),
        ("json-char", "[^\"\\\\\\x00-\\x1F\\x7F] | \"\\\\\" json-escape", ["json-escape"]),
        ("json-string", "\"\\\"\" json-char* \"\\\"\"", ["json-char"]),
        ("json-integer", "\"-\"? (\"0\" | [1-9] [0-9]{0,15})", []),
        ("json-fraction", "\".\" [0-9]{1,15}", []),
        ("json-number", "json-integer json-fraction? ([eE] [-+]? [0-9]{1,3})?", ["json-integer", "json-fraction"]),
        ("json-boolean", "\"true\" | \"false\"", []),
        ("json-null", "\"null\"", []),
        ("json-member", "json-string ws \":\" ws json-value ws", ["json-string", "ws", "json-value"]),
        ("json-object", "\"{\" ws (json-member (\",\" ws json-member)*)? \"}\"", ["json-member", "ws"]),
        ("json-array", "\"[\" ws (json-value ws (\",\" ws json-value ws)*)? \"]\"", ["json-value", "ws"]),
        ("json-value", "json-object | json-array | json-string | json-number | json-boolean | json-null",
            ["json-object", "json-array", "json-string", "json-number", "json-boolean", "json-null"]),
    ];

    /// <summary>Whether <paramref name="name"/> is one of the shared rules.</summary>
    public static bool IsShared(string name) => Definitions.Any(d => d.Name == name);

    /// <summary>Adds <paramref name="name"/> and the shared rules it uses to <paramref name="used"/>.</summary>
    public static void Use(string name, ISet<string> used)
    {
        if (!used.Add(name))
            return;
        foreach (string dependency in Definitions.First(d => d.Name == name).Uses)
            Use(dependency, used);
    }

    /// <summary>The GBNF definitions of the <paramref name="used"/> shared rules, in a fixed order.</summary>
    public static IEnumerable<string> Render(ISet<string> used) =>
        Definitions.Where(d => used.Contains(d.Name)).Select(d => $"{d.Name} ::= {d.Body}");

    /// <summary>A GBNF string literal matching exactly <paramref name="text"/>.</summary>
    public static string Literal(string text)
    {
        var builder = new System.Text.StringBuilder("\"");
        foreach (char c in text)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' or '\x7F' => $"\\x{(int)c:X2}",
                _ => c.ToString(),
            });
        }
        return builder.Append('"').ToString();
    }
}
