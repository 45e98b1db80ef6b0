using System.Text;

namespace EdgeLm.Runtime.AI;

/// <summary>
/// Splits a model's output, as it streams, into text and tool calls in one <see cref="ToolCallFormat"/>. Text that
/// may still turn out to start a call is held back until it is known; a call is emitted once it is complete.
/// Output that looks like a call but does not parse as one is given back as text, unchanged. One instance per
/// generation; not thread-safe.
/// </summary>
public sealed class ToolCallParser
{
    private const string OpenTag = "<tool_call>";
    private const string CloseTag = "</tool_call>";
    private const string PythonTag = "<|python_tag|>";

    private readonly ToolCallFormat _format;
    private readonly StringBuilder _pending = new();
    private Mode _mode;

    private enum Mode
    {
        // Hermes: outside a block / inside one. Json: not yet known / a JSON reply / a text reply.
        Outside,
        Inside,
        Undecided,
        JsonReply,
        TextReply,
    }

    /// <summary>Creates a parser for output in <paramref name="format"/>.</summary>
    public ToolCallParser(ToolCallFormat format)
    {
        _format = format;
        _mode = format == ToolCallFormat.Hermes ? Mode.Outside : Mode.Undecided;
    }

    /// <summary>Parses a whole output at once: its text (the pieces outside calls, joined) and its calls.</summary>
    public static (string Text, IReadOnlyList<ParsedToolCall> Calls) Parse(string output, ToolCallFormat format)
    {
        var parser = new ToolCallParser(format);
        var segments = new List<OutputSegment>();
        parser.Push(output, segments);
        parser.Complete(segments);
        var text = new StringBuilder();
        var calls = new List<ParsedToolCall>();
        foreach (var segment in segments)
        {
            if (segment.Call is { } call)
                calls.Add(call);
            else
                text.Append(segment.Text);
        }
        return (text.ToString(), calls);
    }

    /// <summary>Adds the next piece of output and appends what became known to <paramref name="output"/>.</summary>
    public void Push(string delta, List<OutputSegment> output)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (delta.Length == 0)
            return;
        _pending.Append(delta);
        if (_format == ToolCallFormat.Hermes)
            AdvanceHermes(output, final: false);
        else
            AdvanceJson(output, final: false);
    }

    /// <summary>Ends the output: whatever was held back is appended to <paramref name="output"/>.</summary>
    public void Complete(List<OutputSegment> output)
    {
        if (_format == ToolCallFormat.Hermes)
            AdvanceHermes(output, final: true);
        else
            AdvanceJson(output, final: true);
    }

    private void AdvanceHermes(List<OutputSegment> output, bool final)
    {
        while (true)
        {
            string pending = _pending.ToString();
            if (_mode == Mode.Outside)
            {
                int open = pending.IndexOf(OpenTag, StringComparison.Ordinal);
                if (open < 0)
                {
                    // Hold back a tail that could be the start of the tag.
                    int keep = final ? 0 : PrefixTail(pending, OpenTag);
                    EmitText(output, pending[..^keep]);
                    _pending.Remove(0, pending.Length - keep);
                    return;
                }
                EmitText(output, pending[..open]);
                _pending.Remove(0, open + OpenTag.Length);
                _mode = Mode.Inside;
                continue;
            }

            int close = pending.IndexOf(CloseTag, StringComparison.Ordinal);
            if (close < 0)
            {
                if (!final)
                    return;
                // The output ended inside a block (a token limit or a stop sequence): keep the call if it is whole.
                if (ParsedToolCall.FromJson(pending.Trim()) is { } unterminated)
                    output.Add(OutputSegment.OfCall(unterminated));
                else
                    EmitText(output, OpenTag + pending);
                _pending.Clear();
                _mode = Mode.Outside;
                return;
            }
            string body = pending[..close];
            if (ParsedToolCall.FromJson(body.Trim()) is { } call)
                output.Add(OutputSegment.OfCall(call));
            else
                EmitText(output, OpenTag + body + CloseTag);
            _pending.Remove(0, close + CloseTag.Length);
            _mode = Mode.Outside;
        }
    }

    private void AdvanceJson(List<OutputSegment> output, bool final)
    {
        if (_mode == Mode.Undecided)
        {
            string pending = _pending.ToString();
            string start = pending.TrimStart();
            if (start.StartsWith('{') || start.StartsWith(PythonTag, StringComparison.Ordinal))
                _mode = Mode.JsonReply;
            else if (start.Length > 0 && !PythonTag.StartsWith(start, StringComparison.Ordinal))
                _mode = Mode.TextReply;
            else if (!final)
                return;
            else
                _mode = Mode.TextReply;
        }
        if (_mode == Mode.TextReply)
        {
            EmitText(output, _pending.ToString());
            _pending.Clear();
            return;
        }
        if (!final)
            return;
        string reply = _pending.ToString();
        _pending.Clear();
        if (ParseJsonCalls(reply) is { } calls)
        {
            foreach (var call in calls)
                output.Add(OutputSegment.OfCall(call));
        }
        else
        {
            EmitText(output, reply);
        }
    }

    /// <summary>Reads one or more call objects separated by whitespace, ';' or ','; null unless all of it is calls.</summary>
    internal static List<ParsedToolCall>? ParseJsonCalls(string reply)
    {
        string text = reply.Trim();
        if (text.StartsWith(PythonTag, StringComparison.Ordinal))
            text = text[PythonTag.Length..];
        var calls = new List<ParsedToolCall>();
        int at = 0;
        while (true)
        {
            while (at < text.Length && (char.IsWhiteSpace(text[at]) || text[at] is ';' or ','))
                at++;
            if (at == text.Length)
                return calls.Count > 0 ? calls : null;
            if (text[at] != '{' || JsonObjectEnd(text, at) is not int end)
                return null;
            if (ParsedToolCall.FromJson(text[at..end]) is not { } call)
                return null;
            calls.Add(call);
            at = end;
        }
    }

    /// <summary>The index just past the JSON object opening at <paramref name="start"/>, or null when it never closes.</summary>
    private static int? JsonObjectEnd(string text, int start)
    {
        int depth = 0;
        bool inString = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\')
                    i++;
                else if (c == '"')
                    inString = false;
                continue;
            }
            switch (c)
            {
                case '"':
                    inString = true;
                    break;
                case '{' or '[':
                    depth++;
                    break;
                case '}' or ']':
                    if (--depth == 0)
                        return i + 1;
                    break;
            }
        }
        return null;
    }

    /// <summary>Length of the longest tail of <paramref name="text"/> that is a proper prefix of <paramref name="tag"/>.</summary>
    private static int PrefixTail(string text, string tag)
    {
        for (int n = Math.Min(tag.Length - 1, text.Length); n > 0; n--)
        {
            if (text.AsSpan(text.Length - n).SequenceEqual(tag.AsSpan(0, n)))
                return n;
        }
        return 0;
    }

    private static void EmitText(List<OutputSegment> output, string text)
    {
        if (text.Length > 0)
            output.Add(OutputSegment.OfText(text));
    }
}
