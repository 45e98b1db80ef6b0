using System.Text.Json;
using EdgeLm.Tokenizers.PreTokenization;

namespace EdgeLm.Tokenizers.Loading;

/// <summary>
/// Reads a Hugging Face tokenizer.json (+ tokenizer_config.json) of a byte-level BPE model into the vocabulary that
/// llama.cpp's converter would write to GGUF: tokens by id (gaps filled with "[PADn]" unused entries), added tokens
/// typed control (special, or looking like &lt;|...|&gt;) or user-defined, merges as "left right", the pre-tokenizer
/// type recognised from the Split regex, and BOS/EOS/add-BOS from the config or the post-processor template.
/// Normalizers (Qwen's NFC) are ignored, as llama.cpp ignores them for BPE.
/// </summary>
internal static class HuggingFaceVocabularyReader
{
    public static TokenizerVocabulary Read(string tokenizerJsonPath, string? tokenizerConfigPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerJsonPath);
        if (!File.Exists(tokenizerJsonPath))
            throw new FileNotFoundException($"tokenizer.json not found: {tokenizerJsonPath}", tokenizerJsonPath);
        if (tokenizerConfigPath is null)
        {
            string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, "tokenizer_config.json");
            tokenizerConfigPath = File.Exists(beside) ? beside : null;
        }
        else if (!File.Exists(tokenizerConfigPath))
        {
            throw new FileNotFoundException($"tokenizer_config.json not found: {tokenizerConfigPath}", tokenizerConfigPath);
        }

        using var json = Parse(tokenizerJsonPath);
        using var config = tokenizerConfigPath is null ? null : Parse(tokenizerConfigPath);
        return Read(json.RootElement, config?.RootElement, tokenizerJsonPath);
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException($"{path} is not valid JSON: {e.Message}", e);
        }
    }

    private static TokenizerVocabulary Read(JsonElement root, JsonElement? config, string path)
    {
        var model = Property(root, "model", path);
        string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        if (type != "BPE")
            throw new TokenizerFormatException($"{path}: model type '{type}' is not supported (only byte-level BPE).");
        if (model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True)
            throw new TokenizerFormatException($"{path}: a BPE model with byte_fallback is SentencePiece-style, not byte-level.");

        var byId = new Dictionary<int, string>();
        foreach (var entry in Property(model, "vocab", path).EnumerateObject())
            byId[entry.Value.GetInt32()] = entry.Name;

        var added = new Dictionary<int, (string Content, bool Special)>();
        if (root.TryGetProperty("added_tokens", out var addedTokens) && addedTokens.ValueKind == JsonValueKind.Array)
        {
            foreach (var token in addedTokens.EnumerateArray())
            {
                int id = Property(token, "id", path).GetInt32();
                string content = Property(token, "content", path).GetString() ?? "";
                bool special = token.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
                added[id] = (content, special);
                byId[id] = content;
            }
        }
        if (byId.Count == 0)
            throw new TokenizerFormatException($"{path}: the vocabulary is empty.");
        if (byId.Keys.Min() < 0)
            throw new TokenizerFormatException($"{path}: negative token id {byId.Keys.Min()}.");

        int count = byId.Keys.Max() + 1;
        var tokens = new string[count];
        var types = new TokenType[count];
        for (int id = 0; id < count; id++)
        {
            if (added.TryGetValue(id, out var a))
            {
                bool control = a.Special || LooksSpecial(a.Content);
                tokens[id] = control ? a.Content : a.Content.Replace('\u2581', ' ');
                types[id] = control ? TokenType.Control : TokenType.UserDefined;
            }
            else if (byId.TryGetValue(id, out string? text))
            {
                tokens[id] = text;
                types[id] = TokenType.Normal;
            }
            else
            {
                tokens[id] = $"[PAD{id}]";
                types[id] = TokenType.Unused;
            }
        }

        var merges = ReadMerges(Property(model, "merges", path), path);
        string pre = RecognisePreTokenizer(root, path);

        int? IdOf(string? text) => text is not null && Array.IndexOf(tokens, text) is int i and >= 0 ? i : null;
        string? bosText = ConfigToken(config, "bos_token");
        string? eosText = ConfigToken(config, "eos_token");
        var (templateBos, templateEos) = TemplateFlags(root, bosText, eosText);

        return new TokenizerVocabulary
        {
            Model = "gpt2",
            PreTokenizer = pre,
            Tokens = tokens,
            TokenTypes = types,
            Merges = merges,
            BosId = IdOf(bosText),
            EosId = IdOf(eosText),
            UnknownId = IdOf(ConfigToken(config, "unk_token")),
            PaddingId = IdOf(ConfigToken(config, "pad_token")),
            AddBos = ConfigBool(config, "add_bos_token") ?? templateBos,
            AddEos = ConfigBool(config, "add_eos_token") ?? templateEos,
        };
    }

    /// <summary>Merges are either "left right" strings or ["left", "right"] pairs.</summary>
    private static string[] ReadMerges(JsonElement merges, string path)
    {
        var result = new List<string>(merges.GetArrayLength());
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String)
                result.Add(merge.GetString()!);
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
                result.Add(merge[0].GetString() + " " + merge[1].GetString());
            else
                throw new TokenizerFormatException($"{path}: merge #{result.Count} is neither \"a b\" nor [\"a\", \"b\"].");
        }
        return [.. result];
    }

    /// <summary>
    /// The tokenizer.ggml.pre value llama.cpp's converter would pick, recognised from the Split regex (the converter
    /// hashes sample output instead; the regex identifies the same families).
    /// </summary>
    private static string RecognisePreTokenizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
            throw new TokenizerFormatException($"{path}: no pre_tokenizer.");
        var steps = pre.TryGetProperty("pretokenizers", out var list) ? list.EnumerateArray().ToList() : [pre];

        string? regex = null;
        bool byteLevel = false, byteLevelRegex = false;
        foreach (var step in steps)
        {
            string kind = step.TryGetProperty("type", out var k) ? k.GetString() ?? "" : "";
            if (kind == "Split" && step.TryGetProperty("pattern", out var pattern) && pattern.TryGetProperty("Regex", out var r))
                regex = r.GetString();
            else if (kind == "ByteLevel")
            {
                byteLevel = true;
                byteLevelRegex = !step.TryGetProperty("use_regex", out var u) || u.ValueKind != JsonValueKind.False;
            }
        }
        if (!byteLevel)
            throw new TokenizerFormatException($"{path}: the pre-tokenizer has no ByteLevel step; only byte-level BPE is supported.");

        return regex switch
        {
            null when byteLevelRegex => "gpt-2",
            Llama3SplitStep.OriginalPattern => "llama-bpe",
            QwenPattern => "qwen2",
            _ => throw new TokenizerFormatException($"{path}: unrecognised pre-tokenizer regex '{regex}'."),
        };
    }

    private const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The converter's does_token_look_special: added tokens like these are control even when not "special".</summary>
    private static bool LooksSpecial(string text) =>
        text is "<pad>" or "<mask>" or "<2mass>" or "[@BOS@]"
        || (text.StartsWith("<|", StringComparison.Ordinal) && text.EndsWith("|>", StringComparison.Ordinal))
        || (text.StartsWith("<｜", StringComparison.Ordinal) && text.EndsWith("｜>", StringComparison.Ordinal))
        || (text.StartsWith("<unused", StringComparison.Ordinal) && text.EndsWith('>'));

    /// <summary>A special token named in tokenizer_config.json: a string, or an object with "content".</summary>
    private static string? ConfigToken(JsonElement? config, string name)
    {
        if (config is not { } c || !c.TryGetProperty(name, out var value))
            return null;
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content) => content.GetString(),
            _ => null,
        };
    }

    private static bool? ConfigBool(JsonElement? config, string name) =>
        config is { } c && c.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    /// <summary>Whether a TemplateProcessing post-processor puts BOS first / EOS last in a single sequence.</summary>
    private static (bool? Bos, bool? Eos) TemplateFlags(JsonElement root, string? bos, string? eos)
    {
        if (!root.TryGetProperty("post_processor", out var post) || post.ValueKind != JsonValueKind.Object)
            return (null, null);
        var candidates = post.TryGetProperty("processors", out var list) ? list.EnumerateArray().ToList() : [post];
        foreach (var p in candidates)
        {
            if (!p.TryGetProperty("type", out var type) || type.GetString() != "TemplateProcessing"
                || !p.TryGetProperty("single", out var single) || single.GetArrayLength() == 0)
                continue;
            static string? SpecialId(JsonElement item) =>
                item.TryGetProperty("SpecialToken", out var s) && s.TryGetProperty("id", out var id) ? id.GetString() : null;
            string? first = SpecialId(single[0]);
            string? last = SpecialId(single[single.GetArrayLength() - 1]);
            return (bos is not null && first == bos, eos is not null && last == eos);
        }
        return (null, null);
    }

    private static JsonElement Property(JsonElement element, string name, string path) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value
            : throw new TokenizerFormatException($"{path}: missing \"{name}\".");
}
