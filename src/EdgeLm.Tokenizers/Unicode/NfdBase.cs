namespace EdgeLm.Tokenizers.Unicode;

/// <summary>
/// The first codepoint of a codepoint's canonical decomposition: 'é' -> 'e', 'Å' -> 'A', a Hangul syllable -> its
/// leading jamo. This is the (lossy) accent stripping llama.cpp applies before WordPiece, which maps each codepoint to
/// one codepoint instead of running full NFD. The table is generated because string normalization is unavailable
/// under invariant globalization.
/// </summary>
internal static partial class NfdBase
{
    /// <summary>The base codepoint of <paramref name="codepoint"/>, or the codepoint itself when it does not decompose.</summary>
    public static int Of(int codepoint)
    {
        var runs = Runs;
        int lo = 0, hi = runs.Length / 3 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int first = runs[mid * 3], last = runs[mid * 3 + 1];
            if (codepoint < first) hi = mid - 1;
            else if (codepoint > last) lo = mid + 1;
            else return runs[mid * 3 + 2];
        }
        return codepoint;
    }
}
