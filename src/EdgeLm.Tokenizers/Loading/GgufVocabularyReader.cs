using EdgeLm.Gguf;

namespace EdgeLm.Tokenizers.Loading;

/// <summary>
/// Reads the tokenizer.ggml.* metadata of a GGUF file (full model or vocabulary-only) into a
/// <see cref="TokenizerVocabulary"/>. Array lengths are checked against the token count before use; a metadata value
/// of the wrong type surfaces as the <see cref="GgufFormatException"/> the reader throws.
/// </summary>
internal static class GgufVocabularyReader
{
    public static TokenizerVocabulary Read(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string model = file.GetStringOrNull(GgufKeys.TokenizerModel)
            ?? throw new TokenizerFormatException($"{file.FilePath}: no tokenizer in this file ({GgufKeys.TokenizerModel} is missing).");
        var tokenArray = file.GetArrayOrNull(GgufKeys.TokenizerTokens)
            ?? throw new TokenizerFormatException($"{file.FilePath}: {GgufKeys.TokenizerTokens} is missing.");
        string[] tokens = tokenArray.AsStrings();

        float[]? scores = null;
        if (file.GetArrayOrNull(GgufKeys.TokenizerScores) is { } scoreArray)
        {
            scores = scoreArray.ElementType switch
            {
                GgufValueType.Float32 => scoreArray.AsFloat32s(),
                GgufValueType.Int32 => [.. scoreArray.AsInt32s().Select(s => (float)s)],
                _ => throw new TokenizerFormatException($"{file.FilePath}: {GgufKeys.TokenizerScores} holds {scoreArray.ElementType}, not floats."),
            };
            if (scores.Length < tokens.Length)
                throw new TokenizerFormatException($"{file.FilePath}: {scores.Length} scores for {tokens.Length} tokens.");
        }

        TokenType[]? types = null;
        if (file.GetArrayOrNull(GgufKeys.TokenizerTokenType) is { } typeArray)
        {
            int[] raw = typeArray.AsInt32s();
            if (raw.Length < tokens.Length)
                throw new TokenizerFormatException($"{file.FilePath}: {raw.Length} token types for {tokens.Length} tokens.");
            types = [.. raw.Select(t => t is >= 0 and <= 6 ? (TokenType)t : TokenType.Undefined)];
        }

        string[]? merges = file.GetArrayOrNull(GgufKeys.TokenizerMerges)?.AsStrings();

        int? Id(string key)
        {
            long? value = file.GetIntegerOrNull(key);
            return value is >= 0 and <= int.MaxValue ? (int)value : null;
        }
        bool? Flag(string key) => file.TryGetValue(key, out var v) ? v.AsBool() : null;

        return new TokenizerVocabulary
        {
            Model = model,
            PreTokenizer = file.GetStringOrNull(GgufKeys.TokenizerPre),
            Tokens = tokens,
            Scores = scores,
            TokenTypes = types,
            Merges = merges,
            BosId = Id(GgufKeys.TokenizerBosTokenId) ?? (model == "bert" ? Id(GgufKeys.TokenizerClsTokenId) : null),
            EosId = Id(GgufKeys.TokenizerEosTokenId),
            EotId = Id(GgufKeys.TokenizerEotTokenId),
            EomId = Id(GgufKeys.TokenizerEomTokenId),
            UnknownId = Id(GgufKeys.TokenizerUnknownTokenId),
            SeparatorId = Id(GgufKeys.TokenizerSeparatorTokenId),
            PaddingId = Id(GgufKeys.TokenizerPaddingTokenId),
            AddBos = Flag(GgufKeys.TokenizerAddBosToken),
            AddEos = Flag(GgufKeys.TokenizerAddEosToken),
            AddSep = Flag(GgufKeys.TokenizerAddSepToken),
            AddSpacePrefix = Flag(GgufKeys.TokenizerAddSpacePrefix),
            ModelName = file.GetStringOrNull(GgufKeys.GeneralName),
        };
    }
}
