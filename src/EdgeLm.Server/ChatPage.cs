namespace EdgeLm.Server;

/// <summary>The chat page served at <c>/</c> (wwwroot/index.html, embedded in the assembly).</summary>
internal static class ChatPage
{
    public static ReadOnlyMemory<byte> Html { get; } = Load();

    private static byte[] Load()
    {
        using var stream = typeof(ChatPage).Assembly.GetManifestResourceStream("EdgeLm.Server.index.html")
            ?? throw new InvalidOperationException("The chat page resource is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
