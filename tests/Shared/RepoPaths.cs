namespace EdgeLm.Testing;

/// <summary>Locates the repository's files from a test's output folder, so tests run from any checkout.</summary>
internal static class RepoPaths
{
    /// <summary>The folder holding EdgeLm.slnx.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>tests/fixtures: small real files copied into the project (see SOURCES.md there).</summary>
    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");

    /// <summary>The bundled default model.</summary>
    public static string Stories260K => Path.Combine(Root, "models", "stories260K.gguf");

    /// <summary>
    /// .cache: files the setup script fetched from package registries (the Hugging Face tokenizer files).
    /// </summary>
    public static string Cache => Path.Combine(Root, ".cache");

    /// <summary>A path under tests/fixtures.</summary>
    public static string Fixture(params string[] parts) => Path.Combine([Fixtures, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeLm.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No EdgeLm.slnx above {AppContext.BaseDirectory}.");
    }
}
