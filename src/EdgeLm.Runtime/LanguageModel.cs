using EdgeLm.Gguf;
using EdgeLm.Runtime.Architectures;
using EdgeLm.Runtime.Generation;
using EdgeLm.Tokenizers;

namespace EdgeLm.Runtime;

/// <summary>
/// A GGUF model opened for inference: its memory-mapped file, tokenizer and transformer. Thread-safe to share;
/// each conversation runs in its own <see cref="InferenceSession"/>.
/// </summary>
public sealed class LanguageModel : IDisposable
{
    private LanguageModel(string path, GgufFile file, Tokenizer tokenizer, Transformer transformer)
    {
        Path = path;
        File = file;
        Tokenizer = tokenizer;
        Transformer = transformer;
    }

    /// <summary>The file the model was loaded from.</summary>
    public string Path { get; }

    /// <summary>The open GGUF file (metadata and the mapping the weights live in).</summary>
    public GgufFile File { get; }

    /// <summary>The model's tokenizer, built from its metadata.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The network.</summary>
    public Transformer Transformer { get; }

    /// <summary>The network's shape.</summary>
    public TransformerHyperParameters HyperParameters => Transformer.HyperParameters;

    /// <summary>Opens <paramref name="path"/> and prepares it for inference.</summary>
    /// <exception cref="GgufFormatException">The file is not valid GGUF.</exception>
    /// <exception cref="ModelFormatException">The file is GGUF but not a model EdgeLm can run.</exception>
    public static LanguageModel Load(string path)
    {
        var file = GgufFile.Open(path);
        try
        {
            var tokenizer = Tokenizer.FromGguf(file);
            var transformer = ArchitectureRegistry.Load(file);
            if (tokenizer.VocabularySize > transformer.HyperParameters.VocabularySize)
                throw new ModelFormatException($"The tokenizer has {tokenizer.VocabularySize} tokens but the embedding only {transformer.HyperParameters.VocabularySize} rows.");
            return new LanguageModel(path, file, tokenizer, transformer);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Starts a session with its own KV cache and buffers.</summary>
    public InferenceSession CreateSession(SessionOptions? options = null) => new(this, options ?? new SessionOptions());

    /// <inheritdoc />
    public void Dispose() => File.Dispose();
}
