using System.Runtime.InteropServices;

namespace EdgeLm.Runtime.Grammar;

/// <summary>
/// The pushdown matcher of a <see cref="Grammar"/>, determinised lazily. A parse position is a stack of grammar
/// positions (as in llama.cpp's grammar stacks); a matcher state is the set of stacks still alive. Here both are
/// interned: a stack is a node (position, parent stack), shared with every stack that has the same tail, and a state
/// is the sorted set of its stacks' node ids. Because they are interned, the transition of a state on a byte is
/// computed once and then read from a 256-entry row: walking many tokens from the same state (the token trie) or
/// returning to a state seen before (inside a JSON string every character leads back to the same state) costs one
/// table read per byte.
/// </summary>
/// <remarks>
/// Invariants: node 0 is the empty stack; every other node's parent is an older node, so distances are computed once
/// at interning. A state lists only "ready" nodes, whose position is a terminal; <see cref="State.Complete"/> records
/// that some stack emptied (the start rule can end here). State 0 is the dead state: no stack, not complete.
/// A rule reference in tail position does not push a return node (tail call), so <c>x*</c> keeps stacks flat.
/// Not thread-safe; it only grows, and its contents depend on the grammar alone.
/// </remarks>
internal sealed class GrammarAutomaton
{
    /// <summary>The state with no live stack.</summary>
    public const int Dead = 0;

    private readonly GbnfGrammar _grammar;

    // Stack nodes: position in the grammar, parent node, fewest bytes to empty the stack from here.
    private readonly List<int> _nodePosition = [-1];
    private readonly List<int> _nodeParent = [-1];
    private readonly List<long> _nodeDistance = [0];
    private readonly Dictionary<long, int> _nodeIndex = [];

    private readonly List<State> _states = [];
    private readonly List<int[]?> _rows = [];
    private readonly List<long> _distances = [];
    private readonly Dictionary<StateKey, int> _stateIndex = [];

    // Scratch for one closure.
    private readonly List<int> _ready = [];
    private readonly HashSet<long> _visited = [];
    private readonly Stack<(int Pos, int Parent)> _work = new();
    private bool _complete;

    public GrammarAutomaton(GbnfGrammar grammar)
    {
        _grammar = grammar;
        InternState([], complete: false); // Dead
        _visited.Clear();
        _ready.Clear();
        _complete = false;
        foreach (int start in grammar.Alternatives[grammar.Root])
            Expand(start, 0);
        Start = InternState(_ready, _complete);
    }

    /// <summary>The state before any byte.</summary>
    public int Start { get; }

    /// <summary>How many states have been built so far.</summary>
    public int StateCount => _states.Count;

    /// <summary>Whether the start rule can end in <paramref name="state"/>.</summary>
    public bool IsComplete(int state) => _states[state].Complete;

    /// <summary>Whether some byte can follow in <paramref name="state"/>.</summary>
    public bool CanContinue(int state) => !_states[state].FirstBytes.IsEmpty;

    /// <summary>Fewest bytes still needed to complete from <paramref name="state"/> (<see cref="GbnfGrammar.Unreachable"/> when dead).</summary>
    public long Distance(int state) => _distances[state];

    /// <summary>The state after <paramref name="value"/> in <paramref name="state"/> (<see cref="Dead"/> if not allowed).</summary>
    public int Step(int state, byte value)
    {
        int next = Row(state)[value];
        return next >= 0 ? next : Compute(state, value);
    }

    /// <summary>
    /// The transition row of <paramref name="state"/>: per byte the next state, <see cref="Dead"/> for bytes no ready
    /// node accepts, -1 where not computed yet (then call <see cref="Step"/>). For tight loops (the trie walk).
    /// </summary>
    public int[] Row(int state)
    {
        var row = _rows[state];
        if (row is not null)
            return row;
        row = new int[256];
        var first = _states[state].FirstBytes;
        for (int b = 0; b < 256; b++)
            row[b] = first.Contains((byte)b) ? -1 : Dead;
        _rows[state] = row;
        return row;
    }

    private int Compute(int state, byte value)
    {
        var s = _states[state];
        _ready.Clear();
        _visited.Clear();
        _complete = false;
        foreach (int node in s.Nodes)
        {
            int pos = _nodePosition[node];
            if (_grammar.Terminals[_grammar.Operands[pos]].Contains(value))
                Expand(pos + 1, _nodeParent[node]);
        }
        int next = InternState(_ready, _complete);
        _rows[state]![value] = next;
        return next;
    }

    /// <summary>The state after all of <paramref name="bytes"/>, or <see cref="Dead"/>.</summary>
    public int Walk(int state, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            state = Step(state, b);
            if (state == Dead)
                return Dead;
        }
        return state;
    }

    // Follows the grammar from (pos, parent) until every path rests on a terminal (a ready node) or empties the stack.
    // Iterative (an explicit work list), so long chains of rules that can match nothing cannot overflow the call stack.
    private void Expand(int pos, int parent)
    {
        _work.Clear();
        _work.Push((pos, parent));
        while (_work.TryPop(out var item))
        {
            (pos, parent) = item;
            if (!_visited.Add(((long)pos << 32) | (uint)parent))
                continue;
            switch (_grammar.Kinds[pos])
            {
                case ElementKind.Terminal:
                    _ready.Add(InternNode(pos, parent));
                    break;
                case ElementKind.End:
                    if (parent == 0)
                        _complete = true;
                    else
                        _work.Push((_nodePosition[parent], _nodeParent[parent]));
                    break;
                default:
                    int continuation = _grammar.Kinds[pos + 1] == ElementKind.End ? parent : InternNode(pos + 1, parent);
                    foreach (int start in _grammar.Alternatives[_grammar.Operands[pos]])
                        _work.Push((start, continuation));
                    break;
            }
        }
    }

    private int InternNode(int pos, int parent)
    {
        long key = ((long)pos << 32) | (uint)parent;
        if (_nodeIndex.TryGetValue(key, out int id))
            return id;
        id = _nodePosition.Count;
        _nodePosition.Add(pos);
        _nodeParent.Add(parent);
        _nodeDistance.Add(GbnfGrammar.Saturate(_grammar.SuffixMinimum[pos] + _nodeDistance[parent]));
        _nodeIndex[key] = id;
        return id;
    }

    private int InternState(List<int> ready, bool complete)
    {
        int[] nodes = [.. ready];
        Array.Sort(nodes);
        var key = new StateKey(nodes, complete);
        if (_stateIndex.TryGetValue(key, out int id))
            return id;
        var first = default(ByteSet);
        long distance = complete ? 0 : GbnfGrammar.Unreachable;
        foreach (int node in nodes)
        {
            first = first.Union(_grammar.Terminals[_grammar.Operands[_nodePosition[node]]]);
            distance = Math.Min(distance, _nodeDistance[node]);
        }
        id = _states.Count;
        _states.Add(new State(nodes, complete, first));
        _rows.Add(null);
        _distances.Add(distance);
        _stateIndex[key] = id;
        return id;
    }

    private sealed class State(int[] nodes, bool complete, ByteSet firstBytes)
    {
        public int[] Nodes { get; } = nodes;
        public bool Complete { get; } = complete;
        /// <summary>The bytes some ready node accepts: any other byte leads to the dead state.</summary>
        public ByteSet FirstBytes { get; } = firstBytes;
    }

    private readonly struct StateKey(int[] nodes, bool complete) : IEquatable<StateKey>
    {
        private readonly int[] _nodes = nodes;
        private readonly bool _complete = complete;

        public bool Equals(StateKey other) => _complete == other._complete && _nodes.AsSpan().SequenceEqual(other._nodes);

        public override bool Equals(object? obj) => obj is StateKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(_complete);
            hash.AddBytes(MemoryMarshal.AsBytes(_nodes.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
