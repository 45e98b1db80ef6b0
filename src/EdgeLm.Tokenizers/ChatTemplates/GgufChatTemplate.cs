using EdgeLm.Gguf;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// A model's chat template and special-token texts as a GGUF file stores them (llama.cpp's keys):
/// <c>tokenizer.chat_template</c> (or <c>tokenizer.chat_template.NAME</c> for extra named templates, such as
/// "tool_use"), <c>tokenizer.ggml.bos_token_id</c> / <c>eos_token_id</c> indexing <c>tokenizer.ggml.tokens</c>.
/// </summary>
public static class GgufChatTemplate
{
    /// <summary>The metadata key of the default chat template.</summary>
    public const string TemplateKey = "tokenizer.chat_template";

    /// <summary>The template text stored in the file (the named one when <paramref name="name"/> is given), or null.</summary>
    /// <exception cref="GgufFormatException">The key holds something other than a string.</exception>
    public static string? ReadSource(GgufFile file, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.GetStringOrNull(name is null ? TemplateKey : $"{TemplateKey}.{name}");
    }

    /// <summary>The file's template, parsed; <see cref="ChatTemplates.Default"/> (ChatML) when the file has none.</summary>
    /// <exception cref="ChatTemplateException">The stored template is not valid.</exception>
    public static ChatTemplate Load(GgufFile file, string? name = null) =>
        ReadSource(file, name) is string source ? ChatTemplate.Parse(source) : ChatTemplates.Default;

    /// <summary>Sets <see cref="ChatTemplateContext.BosToken"/> and <see cref="ChatTemplateContext.EosToken"/> to the
    /// texts of the file's BOS and EOS tokens (left unchanged for an id the file does not declare).</summary>
    /// <exception cref="GgufFormatException">A declared id is outside the token list.</exception>
    public static ChatTemplateContext UseSpecialTokensOf(this ChatTemplateContext context, GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(file);
        context.BosToken = TokenText(file, GgufKeys.TokenizerBosTokenId) ?? context.BosToken;
        context.EosToken = TokenText(file, GgufKeys.TokenizerEosTokenId) ?? context.EosToken;
        return context;
    }

    private static string? TokenText(GgufFile file, string idKey)
    {
        if (file.GetIntegerOrNull(idKey) is not long id) return null;
        var tokens = file.GetArrayOrNull(GgufKeys.TokenizerTokens)
            ?? throw new GgufFormatException($"{idKey} is {id} but the file has no {GgufKeys.TokenizerTokens}", idKey);
        if (id < 0 || id >= tokens.Count)
            throw new GgufFormatException($"{idKey} is {id}, outside the {tokens.Count} tokens of {GgufKeys.TokenizerTokens}", idKey);
        return tokens.GetString((int)id);
    }
}
