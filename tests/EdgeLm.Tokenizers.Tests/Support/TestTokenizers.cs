using System.Collections.Concurrent;
using EdgeLm.Testing;

namespace EdgeLm.Tokenizers.Tests.Support;

/// <summary>
/// The tokenizers the tests use, each loaded once per test run: the vocabulary-only GGUF files under
/// tests/fixtures/vocab, and the Hugging Face tokenizer.json files that scripts/fetch-tokenizers.sh puts in .cache.
/// </summary>
public static class TestTokenizers
{
    private static readonly ConcurrentDictionary<string, Lazy<Tokenizer>> s_cache = new();

    /// <summary>The names with llama.cpp vectors, and where their tokenizer comes from.</summary>
    public static readonly string[] GgufNames = ["llama-spm", "phi-3", "gpt-2", "bert-bge", "falcon", "starcoder"];

    public static readonly string[] HuggingFaceNames = ["llama-bpe", "qwen2"];

    public static Tokenizer Get(string name) => s_cache.GetOrAdd(name, n => new Lazy<Tokenizer>(() => Load(n))).Value;

    private static Tokenizer Load(string name) => name switch
    {
        "llama-bpe" => Tokenizer.FromHuggingFace(HuggingFaceFile("llama3", "tokenizer.json"), HuggingFaceFile("llama3", "tokenizer_config.json")),
        "qwen2" => Tokenizer.FromHuggingFace(HuggingFaceFile("qwen3", "tokenizer.json"), HuggingFaceFile("qwen3", "tokenizer_config.json")),
        _ => Tokenizer.FromGguf(RepoPaths.Fixture("vocab", $"ggml-vocab-{name}.gguf")),
    };

    /// <summary>A fetched Hugging Face file; fails (does not skip) with the fix when it is missing.</summary>
    public static string HuggingFaceFile(string model, string file)
    {
        string path = Path.Combine(RepoPaths.Cache, "hf-tokenizers", model, file);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path} is missing. Run scripts/fetch-tokenizers.sh from the repository root to fetch the Hugging Face tokenizer files.", path);
        return path;
    }
}
