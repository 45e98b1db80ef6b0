using EdgeLm.Gguf;

namespace EdgeLm.Tokenizers.Loading;

/// <summary>
/// The inverse of <see cref="GgufVocabularyReader"/>: a vocabulary as <c>tokenizer.ggml.*</c> metadata, so a
/// tokenizer from a Hugging Face tokenizer.json can be stored in a GGUF model (llama.cpp reads the same keys).
/// </summary>
internal static class GgufVocabularyWriter
{
    public static List<KeyValuePair<string, GgufValue>> ToMetadata(TokenizerVocabulary v)
    {
        var keys = new List<KeyValuePair<string, GgufValue>>();
        void Add(string key, GgufValue value) => keys.Add(new(key, value));
        void Id(string key, int? id)
        {
            if (id is { } value)
                Add(key, GgufValue.From((uint)value));
        }
        void Flag(string key, bool? flag)
        {
            if (flag is { } value)
                Add(key, GgufValue.From(value));
        }

        Add(GgufKeys.TokenizerModel, GgufValue.From(v.Model));
        if (v.PreTokenizer is { } pre)
            Add(GgufKeys.TokenizerPre, GgufValue.From(pre));
        Add(GgufKeys.TokenizerTokens, GgufValue.FromStrings(v.Tokens));
        if (v.Scores is { } scores)
            Add(GgufKeys.TokenizerScores, GgufValue.FromFloat32s(scores.ToArray()));
        if (v.TokenTypes is { } types)
            Add(GgufKeys.TokenizerTokenType, GgufValue.FromInt32s(types.Select(t => (int)t).ToArray()));
        if (v.Merges is { } merges)
            Add(GgufKeys.TokenizerMerges, GgufValue.FromStrings(merges));
        Id(GgufKeys.TokenizerBosTokenId, v.BosId);
        Id(GgufKeys.TokenizerEosTokenId, v.EosId);
        Id(GgufKeys.TokenizerEotTokenId, v.EotId);
        Id(GgufKeys.TokenizerEomTokenId, v.EomId);
        Id(GgufKeys.TokenizerUnknownTokenId, v.UnknownId);
        Id(GgufKeys.TokenizerSeparatorTokenId, v.SeparatorId);
        Id(GgufKeys.TokenizerPaddingTokenId, v.PaddingId);
        Flag(GgufKeys.TokenizerAddBosToken, v.AddBos);
        Flag(GgufKeys.TokenizerAddEosToken, v.AddEos);
        Flag(GgufKeys.TokenizerAddSepToken, v.AddSep);
        Flag(GgufKeys.TokenizerAddSpacePrefix, v.AddSpacePrefix);
        return keys;
    }
}
