namespace EdgeLm.Runtime.Grammar.Json;

/// <summary>
/// GBNF for JSON numbers between bounds, written digit by digit: the non-negative integers of [a, b] are split by
/// digit count, then each same-length range by its leading digits into runs of digit classes
/// (e.g. [17, 342] becomes <c>1[7-9] | [2-9][0-9] | [1-2][0-9]{2} | 3[0-3][0-9] | 34[0-2]</c>).
/// </summary>
internal static class NumberRanges
{
    /// <summary>Most digits of an integer part, as in the unbounded number grammar (so values stay within a long).</summary>
    public const int MaxDigits = 16;

    /// <summary>The largest integer part: sixteen nines.</summary>
    public const long Cap = 9_999_999_999_999_999;

    /// <summary>
    /// An expression for the integers in [<paramref name="low"/>, <paramref name="high"/>] (null: unbounded on that side,
    /// up to <see cref="MaxDigits"/> digits), or null when the range holds none.
    /// </summary>
    public static string? Integer(long? low, long? high)
    {
        long lo = Math.Max(low ?? -Cap, -Cap);
        long hi = Math.Min(high ?? Cap, Cap);
        if (lo > hi)
            return null;
        var alternatives = new List<string>();
        if (hi >= 0)
            alternatives.Add(NonNegative(Math.Max(lo, 0), hi));
        if (lo < 0)
            alternatives.Add("\"-\" " + NonNegative(-Math.Min(hi, -1), -lo));
        return Join(alternatives);
    }

    /// <summary>
    /// An expression for decimal numbers (an integer part and an optional fraction, no exponent) between integral
    /// bounds (null: unbounded), each inclusive or exclusive; null when no number qualifies. <paramref name="fraction"/>
    /// names the rule for "." and digits; a fraction that must not be zero is written with a non-zero last digit.
    /// </summary>
    public static string? Decimal(long? low, bool lowExclusive, long? high, bool highExclusive, string fraction)
    {
        var alternatives = new List<string>();
        // v >= 0 (or > 0): the magnitude is v itself.
        if (high is null || high > 0 || (high == 0 && !highExclusive))
        {
            bool clipped = low is null or < 0;
            AddMagnitudes(alternatives, "", clipped ? 0 : low!.Value, !clipped && lowExclusive, high, highExclusive, fraction);
        }
        // v < 0: the magnitude -v is at most -low and at least -high (or 0).
        if (low is null or < 0)
        {
            long min = high is null or > 0 ? 0 : -high.Value;
            bool minExclusive = high is <= 0 && highExclusive;
            AddMagnitudes(alternatives, "\"-\" ", min, minExclusive, low is null ? null : -low.Value, lowExclusive, fraction);
        }
        return alternatives.Count == 0 ? null : Join(alternatives);
    }

    // Magnitudes x = I + F (I the integer part, 0 <= F < 1) with min (<)<= x (<)<= max, min and max integral:
    // I in [min (+1 if exclusive), max - 1] with any fraction; I = max without fraction when max is inclusive;
    // I = min with a non-zero fraction when min is exclusive.
    private static void AddMagnitudes(List<string> alternatives, string sign, long min, bool minExclusive, long? max, bool maxExclusive, string fraction)
    {
        bool capped = max is null || max > Cap;
        long top = capped ? Cap : max!.Value;
        long anyFractionFrom = minExclusive ? min + 1 : min;
        long anyFractionTo = capped ? Cap : top - 1;
        if (anyFractionFrom <= anyFractionTo)
            alternatives.Add($"{sign}{NonNegative(anyFractionFrom, anyFractionTo)} {fraction}?");
        if (!capped && !maxExclusive && top >= min && !(minExclusive && top == min))
            alternatives.Add($"{sign}\"{top}\"");
        if (minExclusive && (capped || top >= min + 1) && min <= Cap)
            alternatives.Add($"{sign}\"{min}\" \".\" [0-9]{{0,14}} [1-9]");
    }

    /// <summary>An expression matching exactly the decimal forms (no leading zeros) of [a, b], 0 &lt;= a &lt;= b.</summary>
    public static string NonNegative(long a, long b)
    {
        var patterns = new List<List<(char Low, char High)>>();
        for (int length = Digits(a); length <= Digits(b); length++)
        {
            long lo = Math.Max(a, length == 1 ? 0 : Pow10(length - 1));
            long hi = Math.Min(b, Pow10(length) - 1);
            if (lo <= hi)
                SameLength(lo.ToString(), hi.ToString(), [], patterns);
        }
        return Join(patterns.Select(Render).ToList());
    }

    // Adds patterns for the numbers between two digit strings of the same length, after the digits in prefix.
    private static void SameLength(string lo, string hi, List<(char, char)> prefix, List<List<(char Low, char High)>> output)
    {
        if (lo.Length == 0)
        {
            output.Add(prefix);
            return;
        }
        char l = lo[0], h = hi[0];
        string restLo = lo[1..], restHi = hi[1..];
        if (l == h)
        {
            SameLength(restLo, restHi, [.. prefix, (l, l)], output);
            return;
        }
        bool fromZero = restLo.All(c => c == '0');
        bool toNine = restHi.All(c => c == '9');
        char first = l, last = h;
        if (!fromZero)
        {
            SameLength(restLo, new string('9', restLo.Length), [.. prefix, (l, l)], output);
            first++;
        }
        if (!toNine)
            last--;
        if (first <= last)
            output.Add([.. prefix, (first, last), .. Enumerable.Repeat(('0', '9'), restLo.Length)]);
        if (!toNine)
            SameLength(new string('0', restHi.Length), restHi, [.. prefix, (h, h)], output);
    }

    private static string Render(List<(char Low, char High)> pattern)
    {
        var parts = new List<string>();
        for (int i = 0; i < pattern.Count;)
        {
            var (low, high) = pattern[i];
            int run = 1;
            while (i + run < pattern.Count && pattern[i + run] == pattern[i])
                run++;
            string unit = low == high ? $"\"{low}\"" : $"[{low}-{high}]";
            parts.Add(run == 1 ? unit : $"{unit}{{{run}}}");
            i += run;
        }
        return string.Join(" ", parts);
    }

    private static string Join(List<string> alternatives) =>
        alternatives.Count == 1 ? alternatives[0] : "(" + string.Join(" | ", alternatives) + ")";

    private static int Digits(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;

    private static long Pow10(int exponent)
    {
        long result = 1;
        for (int i = 0; i < exponent; i++)
            result *= 10;
        return result;
    }
}
