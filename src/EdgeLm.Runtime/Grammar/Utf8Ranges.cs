namespace EdgeLm.Runtime.Grammar;

/// <summary>
/// Turns a set of Unicode code point ranges into the UTF-8 byte sequences that encode exactly those code points,
/// each sequence a list of byte ranges (e.g. U+0800..U+FFFF minus surrogates becomes
/// <c>[E0][A0-BF][80-BF]</c>, <c>[E1-EC][80-BF][80-BF]</c>, <c>[ED][80-9F][80-BF]</c>, <c>[EE-EF][80-BF][80-BF]</c>).
/// This is what lets the grammar run on bytes: tokens may split a character, and no partial-character state is needed.
/// </summary>
internal static class Utf8Ranges
{
    /// <summary>The largest code point.</summary>
    public const int MaxCodePoint = 0x10FFFF;

    /// <summary>
    /// Normalises <paramref name="ranges"/> (inclusive, any order, may overlap) to sorted disjoint ranges without
    /// surrogates (U+D800..U+DFFF, which UTF-8 cannot encode), complemented over all code points when
    /// <paramref name="negated"/>.
    /// </summary>
    public static List<(int Low, int High)> Normalize(IEnumerable<(int Low, int High)> ranges, bool negated)
    {
        var sorted = ranges.Where(r => r.Low <= r.High).OrderBy(r => r.Low).ToList();
        var merged = new List<(int Low, int High)>();
        foreach (var r in sorted)
        {
            if (merged.Count > 0 && r.Low <= merged[^1].High + 1)
                merged[^1] = (merged[^1].Low, Math.Max(merged[^1].High, r.High));
            else
                merged.Add(r);
        }
        if (negated)
        {
            var complement = new List<(int, int)>();
            int next = 0;
            foreach (var (low, high) in merged)
            {
                if (low > next)
                    complement.Add((next, low - 1));
                next = high + 1;
            }
            if (next <= MaxCodePoint)
                complement.Add((next, MaxCodePoint));
            merged = complement;
        }
        var result = new List<(int Low, int High)>();
        foreach (var (low, high) in merged)
        {
            if (low <= 0xDFFF && high >= 0xD800)
            {
                if (low < 0xD800)
                    result.Add((low, 0xD7FF));
                if (high > 0xDFFF)
                    result.Add((0xE000, high));
            }
            else
            {
                result.Add((low, high));
            }
        }
        return result;
    }

    /// <summary>
    /// The byte-range sequences encoding every code point of the normalised <paramref name="ranges"/>; each sequence
    /// is 1 to 4 byte sets, and the sequences are disjoint.
    /// </summary>
    public static List<ByteSet[]> Encode(List<(int Low, int High)> ranges)
    {
        var result = new List<ByteSet[]>();
        foreach (var (low, high) in ranges)
            Split(low, high, result);
        return result;
    }

    // Splits [start, end] until each piece encodes as one sequence of byte ranges: first at the boundaries between
    // encoded lengths, then where the continuation bytes of start and end stop spanning their full 0x80-0xBF range.
    private static void Split(int start, int end, List<ByteSet[]> output)
    {
        foreach (int max in (ReadOnlySpan<int>)[0x7F, 0x7FF, 0xFFFF])
        {
            if (start <= max && max < end)
            {
                Split(start, max, output);
                Split(max + 1, end, output);
                return;
            }
        }
        if (end <= 0x7F)
        {
            output.Add([ByteSet.Range(start, end)]);
            return;
        }
        for (int i = 1; i < 4; i++)
        {
            int mask = (1 << (6 * i)) - 1;
            if ((start & ~mask) != (end & ~mask))
            {
                if ((start & mask) != 0)
                {
                    Split(start, start | mask, output);
                    Split((start | mask) + 1, end, output);
                    return;
                }
                if ((end & mask) != mask)
                {
                    Split(start, (end & ~mask) - 1, output);
                    Split(end & ~mask, end, output);
                    return;
                }
            }
        }
        Span<byte> a = stackalloc byte[4];
        Span<byte> b = stackalloc byte[4];
        int n = EncodeCodePoint(start, a);
        int m = EncodeCodePoint(end, b);
        System.Diagnostics.Debug.Assert(n == m);
        var sequence = new ByteSet[n];
        for (int k = 0; k < n; k++)
            sequence[k] = ByteSet.Range(a[k], b[k]);
        output.Add(sequence);
    }

    /// <summary>Writes the UTF-8 encoding of <paramref name="codePoint"/> and returns its length.</summary>
    public static int EncodeCodePoint(int codePoint, Span<byte> destination)
    {
        if (codePoint < 0x80)
        {
            destination[0] = (byte)codePoint;
            return 1;
        }
        if (codePoint < 0x800)
        {
            destination[0] = (byte)(0xC0 | (codePoint >> 6));
            destination[1] = (byte)(0x80 | (codePoint & 0x3F));
            return 2;
        }
        if (codePoint < 0x10000)
        {
            destination[0] = (byte)(0xE0 | (codePoint >> 12));
            destination[1] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
            destination[2] = (byte)(0x80 | (codePoint & 0x3F));
            return 3;
        }
        destination[0] = (byte)(0xF0 | (codePoint >> 18));
        destination[1] = (byte)(0x80 | ((codePoint >> 12) & 0x3F));
        destination[2] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
        destination[3] = (byte)(0x80 | (codePoint & 0x3F));
        return 4;
    }
}
