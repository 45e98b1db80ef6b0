namespace EdgeLm.Tokenizers.Internal;

/// <summary>
/// The token table shared by every tokenizer kind: id -> text/score/attributes, text -> id, the special tokens that
/// are matched literally in input text, and the end-of-generation set. Immutable after construction.
/// </summary>
internal sealed class VocabularyTable
{
    private readonly string[] _texts;
    private readonly float[] _scores;
    private readonly TokenAttributes[] _attributes;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _idsBySpan;
    private readonly HashSet<int> _endOfGeneration;

    public VocabularyTable(TokenizerVocabulary source)
    {
        ArgumentNullException.ThrowIfNull(source);
        int count = source.Tokens.Count;
        if (count == 0)
            throw new TokenizerFormatException("The vocabulary has no tokens.");
        if (source.Scores is { } scores && scores.Count < count)
            throw new TokenizerFormatException($"The vocabulary has {count} tokens but only {scores.Count} scores.");
        if (source.TokenTypes is { } types && types.Count < count)
            throw new TokenizerFormatException($"The vocabulary has {count} tokens but only {types.Count} token types.");

        _texts = new string[count];
        _scores = new float[count];
        _attributes = new TokenAttributes[count];
        _ids = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (int id = 0; id < count; id++)
        {
            // llama.cpp renames empty entries so that every text is unique and non-empty.
            string text = source.Tokens[id] is { Length: > 0 } t ? t : $"[EMPTY_{id}]";
            if (!_ids.TryAdd(text, id))
                throw new TokenizerFormatException($"Duplicate token in vocabulary: '{text}' has ids {_ids[text]} and {id}.");
            _texts[id] = text;
            _scores[id] = source.Scores?[id] ?? 0f;
            _attributes[id] = source.TokenTypes is { } tt ? TokenAttributesExtensions.FromType(tt[id]) : TokenAttributes.Normal;
            MaxTokenLength = Math.Max(MaxTokenLength, text.Length);
        }
        _idsBySpan = _ids.GetAlternateLookup<ReadOnlySpan<char>>();
        _endOfGeneration = [];
    }

    /// <summary>Number of tokens.</summary>
    public int Count => _texts.Length;

    /// <summary>The longest token text, in UTF-16 code units.</summary>
    public int MaxTokenLength { get; }

    /// <summary>Special tokens matched literally in text, longest text first (llama.cpp's special token cache).</summary>
    public int[] SpecialTokens { get; private set; } = [];

    public string Text(int id) => _texts[id];

    public float Score(int id) => _scores[id];

    public TokenAttributes Attributes(int id) => _attributes[id];

    public bool IsValid(int id) => (uint)id < (uint)_texts.Length;

    public bool TryGetId(ReadOnlySpan<char> text, out int id) => _idsBySpan.TryGetValue(text, out id);

    public bool TryGetId(string text, out int id) => _ids.TryGetValue(text, out id);

    public bool IsEndOfGeneration(int id) => _endOfGeneration.Contains(id);

    public void AddAttributes(int id, TokenAttributes attributes) => _attributes[id] |= attributes;

    public void RemoveAttributes(int id, TokenAttributes attributes) => _attributes[id] &= ~attributes;

    public void SetAttributes(int id, TokenAttributes attributes) => _attributes[id] = attributes;

    public void AddEndOfGeneration(int id)
    {
        if (IsValid(id))
            _endOfGeneration.Add(id);
    }

    public void RemoveEndOfGeneration(int id) => _endOfGeneration.Remove(id);

    public IReadOnlyCollection<int> EndOfGeneration => _endOfGeneration;

    /// <summary>
    /// Collects the control, user-defined and unknown tokens, longest text first; call once the attributes are final.
    /// Ties keep id order so the result does not depend on a sort's stability.
    /// </summary>
    public void BuildSpecialTokenCache()
    {
        var special = new List<int>();
        for (int id = 0; id < _texts.Length; id++)
        {
            if (_attributes[id].Has(TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown))
                special.Add(id);
        }
        SpecialTokens = [.. special.OrderByDescending(id => System.Text.Encoding.UTF8.GetByteCount(_texts[id])).ThenBy(id => id)];
    }
}
