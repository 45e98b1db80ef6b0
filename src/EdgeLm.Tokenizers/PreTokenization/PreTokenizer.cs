using System.Collections.Concurrent;

namespace EdgeLm.Tokenizers.PreTokenization;

/// <summary>
/// The pre-tokenizer of a byte-level BPE vocabulary, chosen by GGUF's tokenizer.ggml.pre: a list of regex splits
/// applied in turn (each splits the pieces of the previous one), plus the flags llama.cpp ties to the name.
/// The regex lists are llama.cpp's (llm_tokenizer_bpe), not the Hugging Face originals; they differ in places.
/// </summary>
internal sealed class PreTokenizer
{
    private static readonly ConcurrentDictionary<string, SplitStep> s_steps = new(StringComparer.Ordinal);

    private readonly SplitStep[] _steps;

    private PreTokenizer(string name, string[] patterns)
    {
        Name = name;
        _steps = patterns.Select(p => s_steps.GetOrAdd(p, CreateStep)).ToArray();
    }

    /// <summary>The tokenizer.ggml.pre value this was made for.</summary>
    public string Name { get; }

    /// <summary>Whether decoding tidies spaces before punctuation (llama.cpp's clean_spaces).</summary>
    public bool CleanSpaces { get; private init; } = true;

    /// <summary>Whether a word that is itself a token skips the merges (Llama 3's ignore_merges).</summary>
    public bool IgnoreMerges { get; private init; }

    /// <summary>llama.cpp's add_bos default for this pre-tokenizer (the vocabulary's own flag wins).</summary>
    public bool AddBos { get; private init; }

    /// <summary>llama.cpp's add_sep default for this pre-tokenizer.</summary>
    public bool AddSep { get; private init; }

    /// <summary>Whether the BOS id is dropped (GLM-4 has none).</summary>
    public bool NoBos { get; private init; }

    /// <summary>Splits text into words; each word is a span of the text, given as a (start, length) in UTF-16 units.</summary>
    public List<(int Start, int Length)> Split(ReadOnlySpan<char> text)
    {
        var split = new SplitText(text);
        var fragments = new List<int> { split.Length };
        var next = new List<int>();
        foreach (var step in _steps)
        {
            next.Clear();
            step.Split(split, fragments, next);
            (fragments, next) = (next, fragments);
        }

        var words = new List<(int, int)>(fragments.Count);
        int cp = 0, utf16 = 0;
        foreach (int length in fragments)
        {
            int start = utf16;
            for (int i = 0; i < length; i++)
                utf16 += split.Codepoints[cp++] >= 0x10000 ? 2 : 1;
            if (utf16 > start)
                words.Add((start, utf16 - start));
        }
        return words;
    }

    private static SplitStep CreateStep(string pattern) => pattern switch
    {
        Gpt2SplitStep.Pattern => new Gpt2SplitStep(),
        Llama3SplitStep.Pattern or Llama3SplitStep.OriginalPattern => new Llama3SplitStep(),
        _ => new RegexSplitStep(pattern),
    };

    // llama.cpp's regex lists (C-string escapes kept: "\\s" is the regex \s, "\r" a literal carriage return).
    private const string Gpt2 = Gpt2SplitStep.Pattern;
    private const string Llama3 = Llama3SplitStep.Pattern;
    private const string Qwen2 =
        "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private const string Qwen35 =
        "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private const string DeepSeekLlmLetters =
        // Written with escapes: several of these codepoints (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A) have
        // singleton canonical decompositions, and an editor or tool that normalizes text would silently change them.
        "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF"
        + "\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5"
        + "\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA"
        + "\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45"
        + "\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-"
        + "\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107"
        + "\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F"
        + "\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D"
        + "\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17"
        + "\uFF21-\uFF3A\uFF41-\uFF5A\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB"
        + "\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF\U0001E900-\U0001E943]+";
    private const string Poro = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";
    private const string CjkRuns = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
    private const string DeepSeek3Words =
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

    /// <summary>The pre-tokenizer for a tokenizer.ggml.pre value (null or empty: llama.cpp's "default").</summary>
    public static PreTokenizer ForName(string? name) => name switch
    {
        null or "" or "default" => new(name ?? "default",
            ["[\\p{P}\\$\\+<=>\\^~\\|]+", Gpt2, "\\p{N}+", "[0-9][0-9][0-9]"]),
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2"
            => new(name, [Llama3]) { IgnoreMerges = true, AddBos = true },
        "dbrx" or "smaug-bpe" => new(name, [Llama3]),
        "glm4" or "chatglm-bpe" => new(name, [Llama3]) { NoBos = true },
        "deepseek-llm" => new(name, ["[\r\n]", DeepSeekLlmLetters, "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+", "\\s+$", CjkRuns, "\\p{N}+"])
        {
            CleanSpaces = false,
        },
        "deepseek-coder" => new(name, ["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CjkRuns, "\\p{N}"]) { CleanSpaces = false },
        "deepseek-v3" => new(name, ["\\p{N}{1,3}", "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+", DeepSeek3Words]) { CleanSpaces = false },
        "falcon" => new(name, ["[\\p{P}\\$\\+<=>\\^~\\|`]+", Gpt2, "[0-9][0-9][0-9]"]),
        "starcoder" or "refact" or "codeshell" or "exaone" or "minerva-7b" => new(name, ["\\p{N}", Gpt2]),
        "command-r" or "smollm" => new(name, ["\\p{N}", Gpt2]) { CleanSpaces = false },
        "gpt-2" or "phi-2" or "jina-es" or "jina-de" or "gigachat" or "jina-v2-es" or "jina-v2-de" or "a.x-4.0"
            or "mellum" or "modern-bert" or "mpt" or "olmo" or "jais" or "exaone4" => new(name, [Gpt2]),
        "jina-v1-en" or "jina-v2-code" or "roberta-bpe" => new(name, [Gpt2]) { AddSep = true },
        "trillion" or "granite-docling" => new(name, [Gpt2]) { CleanSpaces = false },
        "qwen2" or "deepseek-r1-qwen" or "kormo" or "f2llmv2" => new(name, [Qwen2]) { CleanSpaces = false },
        "stablelm2" or "megrez" => new(name, [Qwen2]),
        "qwen35" => new(name, [Qwen35]) { CleanSpaces = false },
        "viking" => new(name, [Poro, "\\p{N}"]) { CleanSpaces = false },
        "poro-chat" => new(name, [Poro]) { CleanSpaces = false },
        "bloom" or "gpt3-finnish" => new(name, [Poro]),
        _ => throw new NotSupportedException($"Unknown pre-tokenizer type (tokenizer.ggml.pre): '{name}'."),
    };
}
