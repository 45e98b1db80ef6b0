namespace EdgeLm.Tokenizers.Internal;

/// <summary>A piece of the input: either a token id already decided, or a span of raw text still to be tokenized.</summary>
internal readonly record struct Fragment(int TokenId, int Start, int Length)
{
    public bool IsToken => TokenId >= 0;

    public static Fragment Text(int start, int length) => new(-1, start, length);
}

/// <summary>
/// Cuts special tokens out of the input before the model's own algorithm runs (llama.cpp's tokenizer_st_partition).
/// Special tokens are tried longest first; every occurrence in every remaining text fragment becomes a token fragment.
/// Control and unknown tokens are matched only when special tokens are parsed; user-defined tokens always are.
/// A token marked LStrip / RStrip also swallows the whitespace (C isspace) on that side of it.
/// </summary>
internal static class SpecialTokenSplitter
{
    public static List<Fragment> Split(VocabularyTable table, ReadOnlySpan<char> text, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.IsEmpty)
            return fragments;
        fragments.Add(Fragment.Text(0, text.Length));

        var next = new List<Fragment>();
        foreach (int special in table.SpecialTokens)
        {
            var attributes = table.Attributes(special);
            if (!parseSpecial && attributes.Has(TokenAttributes.Control | TokenAttributes.Unknown))
                continue;
            string token = table.Text(special);

            next.Clear();
            bool changed = false;
            foreach (var fragment in fragments)
            {
                if (fragment.IsToken)
                {
                    next.Add(fragment);
                    continue;
                }
                changed |= CutOccurrences(text, fragment, special, token, attributes, next);
            }
            if (changed)
                (fragments, next) = (next, fragments);
        }
        return fragments;
    }

    /// <summary>Appends the fragment to output with every occurrence of the token cut out; true if any was found.</summary>
    private static bool CutOccurrences(ReadOnlySpan<char> text, Fragment fragment, int id, string token,
        TokenAttributes attributes, List<Fragment> output)
    {
        int start = fragment.Start, end = fragment.Start + fragment.Length;
        bool found = false;
        while (start < end)
        {
            int at = text[start..end].IndexOf(token, StringComparison.Ordinal);
            if (at < 0)
                break;
            at += start;
            found = true;

            int leftEnd = at;
            if (attributes.Has(TokenAttributes.LStrip))
            {
                while (leftEnd > start && IsCSpace(text[leftEnd - 1]))
                    leftEnd--;
            }
            if (leftEnd > start)
                output.Add(Fragment.Text(start, leftEnd - start));
            output.Add(new Fragment(id, 0, 0));

            start = at + token.Length;
            if (attributes.Has(TokenAttributes.RStrip))
            {
                while (start < end && IsCSpace(text[start]))
                    start++;
            }
        }
        if (start < end)
            output.Add(Fragment.Text(start, end - start));
        return found;
    }

    /// <summary>C's isspace in the "C" locale, which llama.cpp uses for LStrip / RStrip.</summary>
    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}
