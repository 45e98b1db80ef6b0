namespace EdgeLm.Runtime.Grammar;

/// <summary>
/// Turns parsed GBNF rules into a <see cref="Grammar"/> over bytes, then checks it: every reference defined, no rule
/// defined twice, no left recursion (which would make the matcher loop), and a start rule that can finish.
/// </summary>
internal sealed class GrammarCompiler
{
    private readonly record struct Symbol(ElementKind Kind, int Operand);

    private readonly List<string> _names = [];
    private readonly List<List<List<Symbol>>> _rules = [];
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly List<ByteSet> _terminals = [];
    private readonly Dictionary<ByteSet, int> _terminalIndex = [];
    private readonly Dictionary<string, Symbol> _classCache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _helperCounts = new(StringComparer.Ordinal);

    public static GbnfGrammar Compile(string source, List<GbnfRule> rules, string rootName)
    {
        var compiler = new GrammarCompiler();
        foreach (var rule in rules)
        {
            if (compiler._byName.ContainsKey(rule.Name))
                throw new GrammarException($"Rule '{rule.Name}' is defined twice", rule.Line, rule.Column);
            compiler.AddRule(rule.Name);
        }
        if (!compiler._byName.TryGetValue(rootName, out int root))
            throw new GrammarException(rules.Count == 0 ? "The grammar has no rules" : $"The grammar has no start rule '{rootName}'");
        foreach (var rule in rules)
        {
            int index = compiler._byName[rule.Name];
            foreach (var alternative in rule.Alternatives)
                compiler._rules[index].Add(compiler.CompileSequence(alternative, rule.Name));
        }
        return compiler.Build(source, root);
    }

    private int AddRule(string name)
    {
        int index = _names.Count;
        _names.Add(name);
        _rules.Add([]);
        _byName[name] = index;
        return index;
    }

    // Helper rules are named owner_1, owner_2, ...; the counter per owner keeps naming linear in the rule count.
    private int AddHelperRule(string owner)
    {
        int n = _helperCounts.GetValueOrDefault(owner);
        do
            n++;
        while (_byName.ContainsKey($"{owner}_{n}"));
        _helperCounts[owner] = n;
        return AddRule($"{owner}_{n}");
    }

    private Symbol Terminal(ByteSet set)
    {
        if (!_terminalIndex.TryGetValue(set, out int index))
        {
            index = _terminals.Count;
            _terminals.Add(set);
            _terminalIndex[set] = index;
        }
        return new Symbol(ElementKind.Terminal, index);
    }

    private List<Symbol> CompileSequence(List<GbnfItem> items, string owner)
    {
        var output = new List<Symbol>();
        foreach (var item in items)
            CompileItem(item, owner, output);
        return output;
    }

    private void CompileItem(GbnfItem item, string owner, List<Symbol> output)
    {
        switch (item)
        {
            case GbnfLiteral literal:
                Span<byte> buffer = stackalloc byte[4];
                foreach (int cp in literal.CodePoints)
                {
                    int n = Utf8Ranges.EncodeCodePoint(cp, buffer);
                    for (int i = 0; i < n; i++)
                        output.Add(Terminal(ByteSet.Range(buffer[i], buffer[i])));
                }
                break;
            case GbnfClass cls:
                output.AddRange(CompileClass(cls, owner));
                break;
            case GbnfReference reference:
                if (!_byName.TryGetValue(reference.Name, out int target))
                    throw new GrammarException($"Rule '{reference.Name}' is used but never defined", reference.Line, reference.Column);
                output.Add(new Symbol(ElementKind.Rule, target));
                break;
            case GbnfGroup group:
                if (group.Alternatives.Count == 1)
                {
                    output.AddRange(CompileSequence(group.Alternatives[0], owner));
                }
                else
                {
                    int rule = AddHelperRule(owner);
                    foreach (var alternative in group.Alternatives)
                        _rules[rule].Add(CompileSequence(alternative, owner));
                    output.Add(new Symbol(ElementKind.Rule, rule));
                }
                break;
            case GbnfRepeat repeat:
                CompileRepeat(repeat, owner, output);
                break;
            default:
                throw new InvalidOperationException($"Unknown GBNF item {item.GetType().Name}.");
        }
    }

    // x{min,max}: min copies of x, then either r ::= x r | "" (unbounded) or a chain of (max - min) nested optionals
    // o_k ::= x o_(k-1) | "", whose tail references keep the matcher's stacks flat.
    private void CompileRepeat(GbnfRepeat repeat, string owner, List<Symbol> output)
    {
        var body = new List<Symbol>();
        CompileItem(repeat.Item, owner, body);
        if (body.Count == 0 || repeat.Max == 0)
            return;
        Symbol unit;
        if (body.Count == 1)
        {
            unit = body[0];
        }
        else
        {
            int rule = AddHelperRule(owner);
            _rules[rule].Add(body);
            unit = new Symbol(ElementKind.Rule, rule);
        }
        for (int i = 0; i < repeat.Min; i++)
            output.Add(unit);
        if (repeat.Max == -1)
        {
            int star = AddHelperRule(owner);
            _rules[star].Add([unit, new Symbol(ElementKind.Rule, star)]);
            _rules[star].Add([]);
            output.Add(new Symbol(ElementKind.Rule, star));
        }
        else if (repeat.Max > repeat.Min)
        {
            int previous = -1;
            for (int k = 1; k <= repeat.Max - repeat.Min; k++)
            {
                int optional = AddHelperRule(owner);
                _rules[optional].Add(previous < 0 ? [unit] : [unit, new Symbol(ElementKind.Rule, previous)]);
                _rules[optional].Add([]);
                previous = optional;
            }
            output.Add(new Symbol(ElementKind.Rule, previous));
        }
    }

    // A class over code points becomes one terminal when every member is ASCII, otherwise a helper rule with one
    // alternative per UTF-8 byte-range sequence (helper rules are shared between identical classes).
    private List<Symbol> CompileClass(GbnfClass cls, string owner)
    {
        var ranges = Utf8Ranges.Normalize(cls.Ranges, cls.Negated);
        var sequences = Utf8Ranges.Encode(ranges);
        var singleBytes = default(ByteSet);
        var longer = new List<ByteSet[]>();
        foreach (var sequence in sequences)
        {
            if (sequence.Length == 1)
                singleBytes = singleBytes.Union(sequence[0]);
            else
                longer.Add(sequence);
        }
        if (longer.Count == 0)
            return [Terminal(singleBytes)];
        if (longer.Count == 1 && singleBytes.IsEmpty)
            return longer[0].Select(Terminal).ToList();
        string key = string.Join(",", ranges.Select(r => $"{r.Low:X}-{r.High:X}"));
        if (!_classCache.TryGetValue(key, out var symbol))
        {
            int rule = AddHelperRule(owner);
            if (!singleBytes.IsEmpty)
                _rules[rule].Add([Terminal(singleBytes)]);
            foreach (var sequence in longer)
                _rules[rule].Add(sequence.Select(Terminal).ToList());
            symbol = new Symbol(ElementKind.Rule, rule);
            _classCache[key] = symbol;
        }
        return [symbol];
    }

    private GbnfGrammar Build(string source, int root)
    {
        int count = _rules.Count;
        var nullable = new bool[count];
        var minimum = new long[count];
        Array.Fill(minimum, GbnfGrammar.Unreachable);
        // Fixed points: which rules can match nothing, and the fewest bytes each can match.
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int r = 0; r < count; r++)
            {
                foreach (var alternative in _rules[r])
                {
                    bool allNullable = true;
                    long length = 0;
                    foreach (var s in alternative)
                    {
                        if (s.Kind == ElementKind.Terminal)
                        {
                            allNullable = false;
                            length = GbnfGrammar.Saturate(length + 1);
                        }
                        else
                        {
                            allNullable &= nullable[s.Operand];
                            length = GbnfGrammar.Saturate(length + minimum[s.Operand]);
                        }
                    }
                    if (allNullable && !nullable[r])
                        nullable[r] = changed = true;
                    if (length < minimum[r])
                    {
                        minimum[r] = length;
                        changed = true;
                    }
                }
            }
        }
        CheckLeftRecursion(nullable);
        if (minimum[root] >= GbnfGrammar.Unreachable)
            throw new GrammarException($"The start rule '{_names[root]}' can never finish: every way through it recurses without end");

        var kinds = new List<ElementKind>();
        var operands = new List<int>();
        var alternatives = new int[count][];
        for (int r = 0; r < count; r++)
        {
            alternatives[r] = new int[_rules[r].Count];
            for (int a = 0; a < _rules[r].Count; a++)
            {
                alternatives[r][a] = kinds.Count;
                foreach (var s in _rules[r][a])
                {
                    kinds.Add(s.Kind);
                    operands.Add(s.Operand);
                }
                kinds.Add(ElementKind.End);
                operands.Add(-1);
            }
        }
        return new GbnfGrammar(source, [.. _names], root, [.. kinds], [.. operands], [.. _terminals], alternatives, minimum);
    }

    // A rule that can reach itself before matching any byte (through references preceded only by nullable ones)
    // would make the matcher expand forever: refuse it, naming the cycle.
    private void CheckLeftRecursion(bool[] nullable)
    {
        int count = _rules.Count;
        var leftEdges = new List<int>[count];
        for (int r = 0; r < count; r++)
        {
            leftEdges[r] = [];
            foreach (var alternative in _rules[r])
            {
                foreach (var s in alternative)
                {
                    if (s.Kind == ElementKind.Terminal)
                        break;
                    leftEdges[r].Add(s.Operand);
                    if (!nullable[s.Operand])
                        break;
                }
            }
        }
        // Depth-first search with an explicit stack (grammars can chain many thousands of rules); a rule met again
        // while still on the current path closes a cycle.
        var color = new byte[count]; // 0 unvisited, 1 on the path, 2 done
        var path = new List<int>();
        var next = new List<int>();   // per path entry: the index of the next edge to follow
        for (int r = 0; r < count; r++)
        {
            if (color[r] != 0)
                continue;
            color[r] = 1;
            path.Add(r);
            next.Add(0);
            while (path.Count > 0)
            {
                int top = path[^1];
                if (next[^1] == leftEdges[top].Count)
                {
                    color[top] = 2;
                    path.RemoveAt(path.Count - 1);
                    next.RemoveAt(next.Count - 1);
                    continue;
                }
                int target = leftEdges[top][next[^1]++];
                if (color[target] == 1)
                {
                    var cycle = path.Skip(path.IndexOf(target)).Append(target).Select(i => _names[i]);
                    throw new GrammarException($"Left recursion is not supported: {string.Join(" -> ", cycle)} can repeat without matching anything");
                }
                if (color[target] == 0)
                {
                    color[target] = 1;
                    path.Add(target);
                    next.Add(0);
                }
            }
        }
    }
}
