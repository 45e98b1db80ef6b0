using EdgeLm.Gguf;
using EdgeLm.Tokenizers.Loading;

namespace EdgeLm.Tokenizers;

public abstract partial class Tokenizer
{
    /// <summary>
    /// Builds the tokenizer for a vocabulary: <see cref="SentencePieceTokenizer"/> for model "llama",
    /// <see cref="BytePairTokenizer"/> for "gpt2", <see cref="WordPieceTokenizer"/> for "bert".
    /// </summary>
    /// <exception cref="NotSupportedException">Another model (t5, rwkv, ...) or an unknown pre-tokenizer.</exception>
    /// <exception cref="TokenizerFormatException">The vocabulary is inconsistent.</exception>
    public static Tokenizer FromVocabulary(TokenizerVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        return vocabulary.Model switch
        {
            "llama" => SentencePieceTokenizer.Create(vocabulary),
            "gpt2" => BytePairTokenizer.Create(vocabulary),
            "bert" => WordPieceTokenizer.Create(vocabulary),
            _ => throw new NotSupportedException($"Tokenizer model '{vocabulary.Model}' is not supported (llama, gpt2 and bert are)."),
        };
    }

    /// <summary>
    /// Builds a byte-level BPE tokenizer from a Hugging Face tokenizer.json (Llama 3, Qwen2/3, GPT-2 style), reading
    /// BOS/EOS and add-BOS/EOS from tokenizer_config.json when given (else from tokenizer_config.json beside it, if
    /// present). The result gives the ids llama.cpp gives for a GGUF converted from the same files.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="TokenizerFormatException">The files are not a byte-level BPE tokenizer this loader understands.</exception>
    public static Tokenizer FromHuggingFace(string tokenizerJsonPath, string? tokenizerConfigPath = null) =>
        FromVocabulary(HuggingFaceVocabularyReader.Read(tokenizerJsonPath, tokenizerConfigPath));

    /// <summary>Builds the tokenizer described by a GGUF file's tokenizer.ggml.* metadata (model or vocabulary-only file).</summary>
    /// <exception cref="TokenizerFormatException">The file has no tokenizer, or inconsistent tokenizer data.</exception>
    /// <exception cref="GgufFormatException">A tokenizer key holds a value of the wrong type.</exception>
    /// <exception cref="NotSupportedException">The tokenizer model or pre-tokenizer is not supported.</exception>
    public static Tokenizer FromGguf(GgufFile file) => FromVocabulary(GgufVocabularyReader.Read(file));

    /// <summary>Opens a GGUF file and builds its tokenizer.</summary>
    public static Tokenizer FromGguf(string path)
    {
        using var file = GgufFile.Open(path);
        return FromGguf(file);
    }
}
