using EdgeLm.Gguf;
using EdgeLm.Tokenizers;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// Reads the <c>tokenizer.*</c> metadata of a vocabulary source for <c>synth</c>: a GGUF file (model or vocabulary-only)
/// or a Hugging Face tokenizer.json.
/// </summary>
internal static class VocabularySource
{
    public static IReadOnlyList<KeyValuePair<string, GgufValue>> Read(string path)
    {
        if (!File.Exists(path))
            throw new UsageException($"--vocab-from: file '{path}' does not exist.");
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return TokenizerVocabulary.FromHuggingFace(path).ToGgufMetadata();
        using var gguf = GgufFile.Open(path);
        var keys = gguf.MetadataInOrder.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
        if (!keys.Any(kv => kv.Key == GgufKeys.TokenizerTokens))
            throw new UsageException($"--vocab-from: '{path}' has no vocabulary ('{GgufKeys.TokenizerTokens}').");
        return keys;
    }
}
