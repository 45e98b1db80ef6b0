namespace EdgeLm.Tokenizers.PreTokenization;

/// <summary>
/// One pass of the pre-tokenizer: splits every current fragment further. Matches and the text between them both
/// become fragments, so the fragments always cover the whole text. Fragments are lengths in codepoints.
/// </summary>
internal abstract class SplitStep
{
    public abstract void Split(SplitText text, List<int> fragments, List<int> output);
}

/// <summary>Walks one fragment [start, end), emitting pieces as the walk advances.</summary>
internal ref struct FragmentCursor(SplitText text, int start, int end, List<int> output)
{
    private readonly SplitText _text = text;
    private readonly int _end = end;
    private int _previousEnd = start;

    public readonly bool InRange(int pos) => pos < _end;

    /// <summary>The codepoint at pos, or -1 past the fragment.</summary>
    public readonly int At(int pos) => pos < _end ? _text.Codepoints[pos] : -1;

    public readonly bool IsLetter(int pos) => pos < _end && _text.Categories[pos] == Unicode.CodepointCategory.Letter;

    public readonly bool IsNumber(int pos) => pos < _end && _text.Categories[pos] == Unicode.CodepointCategory.Number;

    public readonly bool IsWhitespace(int pos) => pos < _end && _text.Whitespace[pos];

    /// <summary>In range and neither whitespace, letter nor number: [^\s\p{L}\p{N}].</summary>
    public readonly bool IsOther(int pos) => pos < _end && !IsWhitespace(pos) && !IsLetter(pos) && !IsNumber(pos);

    /// <summary>Ends the current piece at pos (nothing is emitted for an empty piece).</summary>
    public void Emit(int pos)
    {
        if (pos > _previousEnd)
            output.Add(pos - _previousEnd);
        _previousEnd = pos;
    }
}

/// <summary>
/// GPT-2's pattern  's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+  written out by hand
/// (as llama.cpp does for speed; the result is the same as the regex).
/// </summary>
internal sealed class Gpt2SplitStep : SplitStep
{
    public const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";

    public override void Split(SplitText text, List<int> fragments, List<int> output)
    {
        int start = 0;
        foreach (int length in fragments)
        {
            int end = start + length;
            var c = new FragmentCursor(text, start, end, output);
            for (int pos = start; pos < end;)
            {
                int cp = c.At(pos);
                if (cp == '\'' && pos + 1 < end)
                {
                    int next = c.At(pos + 1);
                    if (next is 's' or 't' or 'm' or 'd')
                    {
                        c.Emit(pos += 2);
                        continue;
                    }
                    if (pos + 2 < end)
                    {
                        int next2 = c.At(pos + 2);
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                        {
                            c.Emit(pos += 3);
                            continue;
                        }
                    }
                }

                int q = cp == ' ' ? pos + 1 : pos; // optional leading space
                if (c.IsLetter(q))
                {
                    for (pos = q; c.IsLetter(pos); pos++) { }
                    c.Emit(pos);
                    continue;
                }
                if (c.IsNumber(q))
                {
                    for (pos = q; c.IsNumber(pos); pos++) { }
                    c.Emit(pos);
                    continue;
                }
                if (c.IsOther(q))
                {
                    for (pos = q; c.IsOther(pos); pos++) { }
                    c.Emit(pos);
                    continue;
                }

                int spaces = 0;
                while (c.IsWhitespace(pos + spaces))
                    spaces++;
                if (spaces > 1 && c.InRange(pos + spaces))
                {
                    c.Emit(pos += spaces - 1); // \s+(?!\S): leave the last space to the word after it
                    continue;
                }
                if (spaces > 0)
                {
                    c.Emit(pos += spaces);
                    continue;
                }
                c.Emit(++pos);
            }
            start = end;
        }
    }
}

/// <summary>
/// Llama 3's pattern written out by hand, as llama.cpp does:
/// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
/// </summary>
internal sealed class Llama3SplitStep : SplitStep
{
    public const string Pattern =
        @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public const string OriginalPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    public override void Split(SplitText text, List<int> fragments, List<int> output)
    {
        int start = 0;
        foreach (int length in fragments)
        {
            int end = start + length;
            var c = new FragmentCursor(text, start, end, output);
            for (int pos = start; pos < end;)
            {
                int cp = c.At(pos);
                if (cp == '\'' && pos + 1 < end)
                {
                    int next = Unicode.Codepoints.ToLower(c.At(pos + 1));
                    if (next is 's' or 't' or 'm' or 'd')
                    {
                        c.Emit(pos += 2);
                        continue;
                    }
                    if (pos + 2 < end)
                    {
                        int next2 = Unicode.Codepoints.ToLower(c.At(pos + 2));
                        if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l'))
                        {
                            c.Emit(pos += 3);
                            continue;
                        }
                    }
                }

                // [^\r\n\p{L}\p{N}]?\p{L}+
                if (!(cp == '\r' || cp == '\n' || c.IsNumber(pos)) && (c.IsLetter(pos) || c.IsLetter(pos + 1)))
                {
                    for (pos++; c.IsLetter(pos); pos++) { }
                    c.Emit(pos);
                    continue;
                }

                // \p{N}{1,3}
                if (c.IsNumber(pos))
                {
                    int run = pos;
                    while (c.IsNumber(pos))
                    {
                        if (++pos - run >= 3)
                        {
                            c.Emit(pos);
                            run = pos;
                        }
                    }
                    c.Emit(pos);
                    continue;
                }

                // ' ?[^\s\p{L}\p{N}]+[\r\n]*' (a lone trailing space is taken here too, which the later branches would
                // also give as one piece)
                int q = cp == ' ' ? pos + 1 : pos;
                if (!c.InRange(q) || c.IsOther(q))
                {
                    for (pos = q; c.IsOther(pos); pos++) { }
                    while (c.At(pos) is '\r' or '\n')
                        pos++;
                    c.Emit(pos);
                    continue;
                }

                int spaces = 0, afterLastNewline = 0;
                while (c.IsWhitespace(pos + spaces))
                {
                    if (c.At(pos + spaces) is '\r' or '\n')
                        afterLastNewline = pos + spaces + 1;
                    spaces++;
                }
                if (afterLastNewline > 0) // \s*[\r\n]+
                {
                    c.Emit(pos = afterLastNewline);
                    continue;
                }
                if (spaces > 1 && c.InRange(pos + spaces)) // \s+(?!\S)
                {
                    c.Emit(pos += spaces - 1);
                    continue;
                }
                if (spaces > 0)
                {
                    c.Emit(pos += spaces);
                    continue;
                }
                c.Emit(++pos);
            }
            start = end;
        }
    }
}
