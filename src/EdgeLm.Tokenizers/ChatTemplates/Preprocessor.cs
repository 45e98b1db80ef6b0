using System.Runtime.InteropServices;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// Template text after the reference engine's preprocessing, with the original offset of every character so that
/// errors can point into the source the user wrote.
/// </summary>
internal sealed class PreprocessedSource
{
    private readonly int[] _origin;
    private readonly int[] _lineStarts;

    public PreprocessedSource(string original, string text, int[] origin)
    {
        Original = original;
        Text = text;
        _origin = origin;
        var starts = new List<int> { 0 };
        for (int i = 0; i < original.Length; i++)
        {
            if (original[i] == '\n') starts.Add(i + 1);
        }
        _lineStarts = starts.ToArray();
    }

    public string Original { get; }

    /// <summary>The text the lexer reads.</summary>
    public string Text { get; }

    /// <summary>The original offset of preprocessed offset <paramref name="index"/> (the end maps to the end).</summary>
    public int OriginalOffset(int index) =>
        index < 0 ? 0 : index < _origin.Length ? _origin[index] : Original.Length;

    /// <summary>1-based line and column of an original offset.</summary>
    public (int Line, int Column) Locate(int originalOffset)
    {
        originalOffset = Math.Clamp(originalOffset, 0, Original.Length);
        int line = Array.BinarySearch(_lineStarts, originalOffset);
        if (line < 0) line = ~line - 1;
        return (line + 1, originalOffset - _lineStarts[line] + 1);
    }
}

/// <summary>
/// The whitespace rules Hugging Face applies before lexing (its environment uses <c>trim_blocks</c> and
/// <c>lstrip_blocks</c>, as transformers does), done the way the reference engine does them, on raw text:
/// <list type="number">
/// <item>one trailing newline of the template is dropped;</item>
/// <item>lstrip_blocks: spaces and tabs from a line start up to <c>{%</c>, <c>{#</c> or <c>{-</c> are removed
///   (not before <c>{{</c>);</item>
/// <item>trim_blocks: a newline right after <c>%}</c>, <c>#}</c> or <c>-}</c> is removed;</item>
/// <item>transformers' <c>{% generation %}</c> / <c>{% endgeneration %}</c> markers are removed, honouring their
///   <c>-</c> modifiers on the surrounding whitespace.</item>
/// </list>
/// Each stage keeps a map from output characters to original offsets.
/// </summary>
internal static class Preprocessor
{
    public static PreprocessedSource Run(string source)
    {
        int n = source.EndsWith('\n') ? source.Length - 1 : source.Length;
        var text = new Buffer(n);
        for (int i = 0; i < n; i++) text.Add(source[i], i);

        text = LstripBlocks(text);
        text = TrimBlocks(text);
        text = RemoveGenerationTags(text);
        return new PreprocessedSource(source, new string(CollectionsMarshal.AsSpan(text.Chars)), text.Origin.ToArray());
    }

    private static Buffer LstripBlocks(Buffer input)
    {
        var output = new Buffer(input.Count);
        int i = 0;
        while (i < input.Count)
        {
            bool lineStart = i == 0 || JsText.IsLineTerminator(input[i - 1]);
            if (lineStart)
            {
                int j = i;
                while (j < input.Count && input[j] is ' ' or '\t') j++;
                if (j + 1 < input.Count && input[j] == '{' && input[j + 1] is '#' or '%' or '-')
                {
                    // Drop the indentation; the tag itself is copied by the loop below.
                    i = j;
                }
            }
            output.Add(input[i], input.Origin[i]);
            i++;
        }
        return output;
    }

    private static Buffer TrimBlocks(Buffer input)
    {
        var output = new Buffer(input.Count);
        int i = 0;
        while (i < input.Count)
        {
            if (i + 2 < input.Count && input[i] is '#' or '%' or '-' && input[i + 1] == '}' && input[i + 2] == '\n')
            {
                output.Add(input[i], input.Origin[i]);
                output.Add(input[i + 1], input.Origin[i + 1]);
                i += 3;
                continue;
            }
            output.Add(input[i], input.Origin[i]);
            i++;
        }
        return output;
    }

    private static Buffer RemoveGenerationTags(Buffer input)
    {
        var output = new Buffer(input.Count);
        int copied = 0;
        for (int t = 0; t + 1 < input.Count; t++)
        {
            if (input[t] != '{' || input[t + 1] != '%') continue;
            if (!MatchGenerationTag(input, t, out bool stripBefore, out bool stripAfter, out int tagEnd)) continue;

            int before = t;
            while (before > copied && JsText.IsWhitespace(input[before - 1])) before--;
            int after = tagEnd;
            while (after < input.Count && JsText.IsWhitespace(input[after])) after++;

            output.AddRange(input, copied, before);
            if (!stripBefore) output.AddRange(input, before, t);
            if (!stripAfter) output.AddRange(input, tagEnd, after);
            copied = after;
            t = after - 1;
        }
        output.AddRange(input, copied, input.Count);
        return output;
    }

    /// <summary>Matches <c>{%-? \s* (end)?generation \s* -?%}</c> at <paramref name="start"/>.</summary>
    private static bool MatchGenerationTag(Buffer input, int start, out bool stripBefore, out bool stripAfter, out int end)
    {
        stripBefore = stripAfter = false;
        end = 0;
        int i = start + 2;
        if (i < input.Count && input[i] == '-') { stripBefore = true; i++; }
        while (i < input.Count && JsText.IsWhitespace(input[i])) i++;
        if (input.StartsWith(i, "end")) i += 3;
        if (!input.StartsWith(i, "generation")) return false;
        i += "generation".Length;
        while (i < input.Count && JsText.IsWhitespace(input[i])) i++;
        if (i < input.Count && input[i] == '-') { stripAfter = true; i++; }
        if (!input.StartsWith(i, "%}")) return false;
        end = i + 2;
        return true;
    }

    /// <summary>Characters with their original offsets.</summary>
    private sealed class Buffer(int capacity)
    {
        public List<char> Chars { get; } = new(capacity);
        public List<int> Origin { get; } = new(capacity);
        public int Count => Origin.Count;
        public char this[int index] => Chars[index];

        public void Add(char c, int origin)
        {
            Chars.Add(c);
            Origin.Add(origin);
        }

        public void AddRange(Buffer source, int from, int to)
        {
            for (int i = from; i < to; i++) Add(source[i], source.Origin[i]);
        }

        public bool StartsWith(int at, string s)
        {
            if (at + s.Length > Count) return false;
            for (int k = 0; k < s.Length; k++)
            {
                if (Chars[at + k] != s[k]) return false;
            }
            return true;
        }
    }
}
