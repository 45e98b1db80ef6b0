namespace EdgeLm.Conformance.Tests.Support;

/// <summary>Reads a golden greedy-decoding file: the ids are on the line after "token ids:".</summary>
public static class GoldenGreedyFile
{
    /// <exception cref="InvalidDataException">No "token ids:" line, nothing after it, or a bad id.</exception>
    public static int[] ReadTokenIds(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = Array.FindIndex(lines, l => l.Trim() == "token ids:");
        if (header < 0 || header + 1 >= lines.Length)
            throw new InvalidDataException($"{path} has no line of ids after a \"token ids:\" line.");
        var ids = TokenizerVectorFile.ParseIds(lines[header + 1], path, header + 2);
        if (ids.Length == 0)
            throw new InvalidDataException($"{path}: the \"token ids:\" line is followed by an empty line.");
        return ids;
    }
}
