namespace EdgeLm.Compression.Pruning;

/// <summary>The input checks of both pruners, callable up front (before a calibration run) so bad input fails fast.</summary>
public static class PruneInput
{
    /// <summary>
    /// Checks that <paramref name="input"/> exists and is an F32/F16/BF16 model of an architecture EdgeLm runs, and that
    /// <paramref name="output"/> is another file in an existing folder.
    /// </summary>
    /// <exception cref="PruneException">The input or output is not usable (the message says why).</exception>
    /// <exception cref="EdgeLm.Gguf.GgufFormatException">The input is not a valid GGUF file.</exception>
    public static void Check(string input, string output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        PruneSource.CheckPaths(input, output);
        var (file, _) = PruneSource.Open(input);
        file.Dispose();
    }
}
