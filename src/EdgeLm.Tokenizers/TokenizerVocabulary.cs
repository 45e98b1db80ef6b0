namespace EdgeLm.Tokenizers;

/// <summary>
/// Everything a tokenizer is built from, as plain data: the fields of GGUF's tokenizer.ggml.* metadata. Loaders fill
/// it (from GGUF or from Hugging Face files); <see cref="Tokenizer.FromVocabulary"/> turns it into a tokenizer.
/// Nullable settings mean "not stated": the tokenizer then uses llama.cpp's default for the model and pre-tokenizer.
/// </summary>
public sealed class TokenizerVocabulary
{
    /// <summary>tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE) or "bert" (WordPiece).</summary>
    public required string Model { get; init; }

    /// <summary>tokenizer.ggml.pre: the pre-tokenizer of a byte-level BPE vocabulary ("llama-bpe", "qwen2", "gpt-2", ...).</summary>
    public string? PreTokenizer { get; init; }

    /// <summary>tokenizer.ggml.tokens: the text of every token, indexed by id (UTF-8 text as a .NET string).</summary>
    public required IReadOnlyList<string> Tokens { get; init; }

    /// <summary>tokenizer.ggml.scores: one score per token (SentencePiece merge priority); null means all zero.</summary>
    public IReadOnlyList<float>? Scores { get; init; }

    /// <summary>tokenizer.ggml.token_type: one type per token; null means all <see cref="TokenType.Normal"/>.</summary>
    public IReadOnlyList<TokenType>? TokenTypes { get; init; }

    /// <summary>tokenizer.ggml.merges: BPE merges in rank order, each "left right" (one space between the parts).</summary>
    public IReadOnlyList<string>? Merges { get; init; }

    /// <summary>tokenizer.ggml.bos_token_id.</summary>
    public int? BosId { get; init; }

    /// <summary>tokenizer.ggml.eos_token_id.</summary>
    public int? EosId { get; init; }

    /// <summary>tokenizer.ggml.eot_token_id (end of turn).</summary>
    public int? EotId { get; init; }

    /// <summary>tokenizer.ggml.eom_token_id (end of message).</summary>
    public int? EomId { get; init; }

    /// <summary>tokenizer.ggml.unknown_token_id.</summary>
    public int? UnknownId { get; init; }

    /// <summary>tokenizer.ggml.seperator_token_id (sic; BERT's [SEP]).</summary>
    public int? SeparatorId { get; init; }

    /// <summary>tokenizer.ggml.padding_token_id.</summary>
    public int? PaddingId { get; init; }

    /// <summary>tokenizer.ggml.add_bos_token.</summary>
    public bool? AddBos { get; init; }

    /// <summary>tokenizer.ggml.add_eos_token.</summary>
    public bool? AddEos { get; init; }

    /// <summary>tokenizer.ggml.add_sep_token (BERT appends [SEP]).</summary>
    public bool? AddSep { get; init; }

    /// <summary>tokenizer.ggml.add_space_prefix: SentencePiece prepends a space to text that starts a sequence.</summary>
    public bool? AddSpacePrefix { get; init; }

    /// <summary>Lowercase the input before WordPiece (BERT); llama.cpp's default is true.</summary>
    public bool? Lowercase { get; init; }

    /// <summary>Strip accents before WordPiece; llama.cpp's default is the value of <see cref="Lowercase"/>.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>
    /// general.name. llama.cpp keys a few per-token quirks on it (Phi-3's special tokens swallow the whitespace after
    /// them), so it is kept to reproduce its token ids.
    /// </summary>
    public string? ModelName { get; init; }

    /// <summary>Reads the vocabulary of a Hugging Face tokenizer.json (with its tokenizer_config.json, if any).</summary>
    public static TokenizerVocabulary FromHuggingFace(string tokenizerJsonPath, string? tokenizerConfigPath = null) =>
        Loading.HuggingFaceVocabularyReader.Read(tokenizerJsonPath, tokenizerConfigPath);

    /// <summary>Reads the tokenizer.ggml.* metadata of a GGUF file.</summary>
    public static TokenizerVocabulary FromGguf(EdgeLm.Gguf.GgufFile file) => Loading.GgufVocabularyReader.Read(file);

    /// <summary>
    /// This vocabulary as tokenizer.ggml.* metadata, in the order llama.cpp's converter writes it: what a GGUF model
    /// needs to carry so that EdgeLm and llama.cpp build the same tokenizer from it.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, EdgeLm.Gguf.GgufValue>> ToGgufMetadata() => Loading.GgufVocabularyWriter.ToMetadata(this);
}
