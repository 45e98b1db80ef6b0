namespace EdgeLm.Testing;

/// <summary>The stories260K golden decode (tests/fixtures/models/stories260K.GOLDEN.txt): token ids and text.</summary>
internal static class Golden
{
    /// <summary>The 64 token ids of the greedy decode from BOS alone.</summary>
    public static int[] Stories260KTokens { get; } = Parse().Tokens;

    /// <summary>The text of those tokens.</summary>
    public static string Stories260KText { get; } = Parse().Text;

    private static (int[] Tokens, string Text) Parse()
    {
        string[] lines = File.ReadAllLines(RepoPaths.Fixture("models", "stories260K.GOLDEN.txt"));
        int ids = Array.IndexOf(lines, "token ids:");
        int text = Array.IndexOf(lines, "text:");
        if (ids < 0 || text < 0)
            throw new InvalidDataException("GOLDEN.txt lacks its 'token ids:' or 'text:' line.");
        int[] tokens = lines[ids + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
        return (tokens, string.Join('\n', lines[(text + 1)..]));
    }
}
