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
        "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";
    private const string Poro = " ?[^(\\s|.,!?…。，、।۔،)]+";
    private const string CjkRuns = "[一-龥ࠀ-一가-퟿]+";
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
        "deepseek-llm" => new(name, ["[\r\n]", DeepSeekLlmLetters, "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", CjkRuns, "\\p{N}+"])
        {
            CleanSpaces = false,
        },
        "deepseek-coder" => new(name, ["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CjkRuns, "\\p{N}"]) { CleanSpaces = false },
        "deepseek-v3" => new(name, ["\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+", DeepSeek3Words]) { CleanSpaces = false },
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
