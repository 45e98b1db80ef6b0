namespace EdgeLm.Tokenizers.Internal;

/// <summary>
/// llama.cpp's clean_up_tokenization_spaces, applied to detokenized UTF-8 in three passes over the bytes:
/// (1) drop the space in " ?", " !", " .", " ,"; (2) " ' " becomes "'" (both spaces dropped);
/// (3) drop the space before the contractions 's, 'm, 're, 've (but not 't, 'd, 'll).
/// </summary>
internal static class SpaceCleanup
{
    public static void Apply(List<byte> text)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(text);
        int length = span.Length;
        length = DropSpaceBeforePunctuation(span[..length]);
        length = DropSpacesAroundApostrophe(span[..length]);
        length = DropSpaceBeforeContraction(span[..length]);
        text.RemoveRange(length, text.Count - length);
    }

    // Each pass compacts in place: the byte at i is read before the write position (never ahead of i) is written.
    private static int DropSpaceBeforePunctuation(Span<byte> t)
    {
        int total = t.Length > 0 ? 1 : 0;
        for (int i = 1; i < t.Length; i++)
        {
            byte x = t[i];
            if (t[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',')
                total--;
            t[total++] = x;
        }
        return total;
    }

    private static int DropSpacesAroundApostrophe(Span<byte> t)
    {
        int total = t.Length > 0 ? 1 : 0;
        for (int i = 1; i < t.Length; i++)
        {
            byte x = t[i];
            if (x == '\'' && i + 1 < t.Length && t[i - 1] == ' ' && t[i + 1] == ' ')
            {
                total--;
                t[++i] = 0; // skip the next space (llama.cpp also overwrites it with NUL)
            }
            t[total++] = x;
        }
        return total;
    }

    private static int DropSpaceBeforeContraction(Span<byte> t)
    {
        int total = t.Length > 0 ? 1 : 0;
        for (int i = 1; i < t.Length; i++)
        {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < t.Length)
            {
                byte x1 = t[i + 1];
                if (x1 is (byte)'s' or (byte)'m')
                    total--;
                else if (i + 2 < t.Length && ((x1 == 'r' && t[i + 2] == 'e') || (x1 == 'v' && t[i + 2] == 'e')))
                    total--;
            }
            t[total++] = x;
        }
        return total;
    }
}
