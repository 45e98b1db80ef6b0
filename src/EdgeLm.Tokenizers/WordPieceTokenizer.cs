using System.Text;
using EdgeLm.Tokenizers.Internal;
using EdgeLm.Tokenizers.Unicode;

namespace EdgeLm.Tokenizers;

/// <summary>
/// WordPiece as llama.cpp runs it for BERT-style embedding models (GGUF model "bert"). The text is lowercased and
/// stripped of accents (unless the vocabulary says otherwise), split at whitespace, and every punctuation mark,
/// ASCII symbol and CJK ideograph becomes a word of its own. Each word, prefixed with '▁' (how llama.cpp stores
/// word-initial pieces; "##" continuation pieces are stored bare), is covered greedily by the longest matching
/// pieces; a word that cannot be covered becomes [UNK]. Encoding with special tokens adds [CLS] ... [SEP].
/// </summary>
public sealed class WordPieceTokenizer : Tokenizer
{
    private const char WordMarker = '\u2581';

    private readonly bool _lowercase;
    private readonly bool _stripAccents;

    private WordPieceTokenizer(VocabularyTable table, TokenizerSettings settings, bool lowercase, bool stripAccents)
        : base(table, settings)
    {
        _lowercase = lowercase;
        _stripAccents = stripAccents;
    }

    /// <summary>The separator token ([SEP]) that ends every sequence; the same as <see cref="Tokenizer.EosId"/>.</summary>
    public int SeparatorId => Settings.Separator ?? -1;

    /// <summary>Builds the tokenizer from a vocabulary whose model is "bert".</summary>
    public static WordPieceTokenizer Create(TokenizerVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var table = new VocabularyTable(vocabulary);
        var settings = new TokenizerSettings
        {
            Bos = 101, Unknown = 100, Separator = 102, Padding = 0,
            AddSpacePrefix = false, CleanSpaces = true, AddBos = true, AddEos = false, AddSep = true,
        };
        settings.Resolve(table, vocabulary);
        if (settings.Unknown is null)
            throw new TokenizerFormatException("A WordPiece vocabulary needs an unknown token ([UNK]).");

        // [SEP] plays the part of EOS: it is what encoding appends.
        settings.Eos ??= settings.Separator;
        if (settings.Eos == settings.Separator)
        {
            settings.AddEos = settings.AddSep;
            settings.AddSep = false;
        }
        bool lowercase = vocabulary.Lowercase ?? true;
        return new WordPieceTokenizer(table, settings, lowercase, vocabulary.StripAccents ?? lowercase);
    }

    private protected override void EncodeCore(ReadOnlySpan<char> text, List<int> output, bool addSpecial, bool parseSpecial)
    {
        var fragments = SpecialTokenSplitter.Split(Table, text, parseSpecial);
        if (addSpecial && Settings.AddBos)
            output.Add(Settings.Bos!.Value);
        foreach (var fragment in fragments)
        {
            if (fragment.IsToken)
                output.Add(fragment.TokenId);
            else
                TokenizeText(text.Slice(fragment.Start, fragment.Length), output);
        }
        if (addSpecial && Settings.AddEos)
            output.Add(Settings.Eos!.Value);
        if (addSpecial && Settings.AddSep)
            output.Add(Settings.Separator!.Value);
    }

    private void TokenizeText(ReadOnlySpan<char> text, List<int> output)
    {
        foreach (string word in SplitWords(text))
        {
            string marked = WordMarker + word;
            int before = output.Count;
            for (int i = 0; i < marked.Length;)
            {
                int end = LongestMatch(marked, i, out int id);
                if (end < 0)
                {
                    output.RemoveRange(before, output.Count - before); // the whole word is unknown
                    break;
                }
                output.Add(id);
                i = end;
            }
            if (output.Count == before)
                output.Add(Settings.Unknown!.Value);
        }
    }

    /// <summary>The end of the longest piece starting at <paramref name="start"/>, or -1 if none matches.</summary>
    private int LongestMatch(string word, int start, out int id)
    {
        for (int end = Math.Min(word.Length, start + Table.MaxTokenLength); end > start; end--)
        {
            if (end < word.Length && char.IsLowSurrogate(word[end]))
                continue; // never cut a surrogate pair
            if (Table.TryGetId(word.AsSpan(start, end - start), out id))
                return end;
        }
        id = -1;
        return -1;
    }

    /// <summary>Normalizes and splits text into words the way llama.cpp's WordPiece preprocessing does.</summary>
    internal List<string> SplitWords(ReadOnlySpan<char> text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        void Finish()
        {
            if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }

        foreach (int original in Codepoints.Decode(text))
        {
            int cp = _stripAccents ? NfdBase.Of(original) : original;
            if (Codepoints.IsWhitespace(cp))
            {
                Finish();
                continue;
            }
            var category = Codepoints.Category(cp);
            if (cp == 0 || cp == 0xFFFD || category == CodepointCategory.Control)
                continue;
            if (_stripAccents && category == CodepointCategory.AccentMark)
                continue;

            int written = _lowercase ? Codepoints.ToLower(cp) : cp;
            if (category == CodepointCategory.Punctuation || (cp < 0x7F && category == CodepointCategory.Symbol) || IsChineseCharacter(cp))
            {
                Finish();
                Codepoints.Append(current, written);
                Finish();
            }
            else
            {
                Codepoints.Append(current, written);
            }
        }
        Finish();
        return words;
    }

    /// <summary>The CJK ranges BERT treats as words of their own (as the Hugging Face code has them).</summary>
    private static bool IsChineseCharacter(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    private protected override byte[] PieceCore(int id)
    {
        var attributes = Table.Attributes(id);
        string text = Table.Text(id);
        if (attributes.Has(TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined))
            return Encoding.UTF8.GetBytes(text);
        if (attributes.Has(TokenAttributes.Normal))
            return Encoding.UTF8.GetBytes(text.Replace(WordMarker, ' '));
        return [];
    }
}
