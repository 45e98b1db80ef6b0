namespace EdgeLm.Cli.Reporting;

/// <summary>
/// Files a verb writes at its end, checked before the long work starts and written all-or-nothing: every file goes to
/// a temporary name beside its target first and is renamed into place only when all were written, so a failure leaves
/// no partial file behind.
/// </summary>
internal static class OutputFiles
{
    /// <summary>
    /// Checks that <paramref name="path"/> (given for <paramref name="option"/>) can be written: its folder exists and
    /// takes a new file, it is not a folder itself, and it is none of <paramref name="inputs"/>.
    /// </summary>
    /// <exception cref="UsageException">The path cannot be written, with a message saying why.</exception>
    public static void CheckWritable(string path, string option, IEnumerable<string> inputs)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new UsageException($"{option}: '{path}' is a folder, not a file name.");
        string folder = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(folder))
            throw new UsageException($"{option}: folder '{folder}' does not exist.");
        if (inputs.Any(i => string.Equals(Path.GetFullPath(i), full, StringComparison.Ordinal)))
            throw new UsageException($"{option}: '{path}' is one of the inputs; it would be overwritten.");
        try
        {
            using var probe = new FileStream(TemporaryName(full), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{option}: cannot write in folder '{folder}': {e.Message}");
        }
    }

    /// <summary>Writes every file, or none: all to temporary names first, then renamed into place.</summary>
    public static void WriteAll(IReadOnlyList<(string Path, byte[] Bytes)> files)
    {
        var written = new List<(string Temporary, string Target)>();
        try
        {
            foreach (var (path, bytes) in files)
            {
                string target = Path.GetFullPath(path);
                string temporary = TemporaryName(target);
                written.Add((temporary, target));
                File.WriteAllBytes(temporary, bytes);
            }
            foreach (var (temporary, target) in written)
                File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            foreach (var (temporary, _) in written)
            {
                if (File.Exists(temporary))
                    File.Delete(temporary);
            }
        }
    }

    private static string TemporaryName(string target) => $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
}
