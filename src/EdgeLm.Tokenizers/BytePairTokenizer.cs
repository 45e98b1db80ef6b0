using System.Text;
using EdgeLm.Tokenizers.Internal;
using EdgeLm.Tokenizers.PreTokenization;
using EdgeLm.Tokenizers.Unicode;

namespace EdgeLm.Tokenizers;

/// <summary>
/// Byte-level BPE (GGUF model "gpt2": GPT-2, Llama 3, Qwen2/3, Falcon, StarCoder, DeepSeek, ...). Text is split into
/// words by the pre-tokenizer named in tokenizer.ggml.pre, each word's UTF-8 bytes are written as GPT-2's byte
/// characters ('Ġ' for a space), and adjacent pieces are merged by merge rank, lowest rank first.
/// </summary>
public sealed class BytePairTokenizer : Tokenizer
{
    private readonly PreTokenizer _preTokenizer;
    private readonly Dictionary<string, int> _ranks;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _ranksBySpan;

    private BytePairTokenizer(VocabularyTable table, TokenizerSettings settings, PreTokenizer preTokenizer,
        Dictionary<string, int> ranks) : base(table, settings)
    {
        _preTokenizer = preTokenizer;
        _ranks = ranks;
        _ranksBySpan = ranks.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The pre-tokenizer type (tokenizer.ggml.pre) in use.</summary>
    public string PreTokenizerName => _preTokenizer.Name;

    /// <summary>Number of merges.</summary>
    public int MergeCount => _ranks.Count;

    /// <summary>Builds the tokenizer from a vocabulary whose model is "gpt2".</summary>
    /// <exception cref="TokenizerFormatException">The merges are missing.</exception>
    /// <exception cref="NotSupportedException">The pre-tokenizer type is unknown.</exception>
    public static BytePairTokenizer Create(TokenizerVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Merges is null)
            throw new TokenizerFormatException("A byte-level BPE vocabulary needs merges (tokenizer.ggml.merges).");
        var preTokenizer = PreTokenizer.ForName(vocabulary.PreTokenizer);
        var table = new VocabularyTable(vocabulary);

        // Rank = position in the list; a repeated pair keeps its first rank. The key is "left right".
        var ranks = new Dictionary<string, int>(vocabulary.Merges.Count, StringComparer.Ordinal);
        for (int i = 0; i < vocabulary.Merges.Count; i++)
            ranks.TryAdd(NormalizeMerge(vocabulary.Merges[i]), i);

        var settings = new TokenizerSettings
        {
            Bos = preTokenizer.NoBos ? null : 11, Eos = 11,
            AddSpacePrefix = vocabulary.AddSpacePrefix ?? false,
            CleanSpaces = preTokenizer.CleanSpaces, AddBos = preTokenizer.AddBos, AddSep = preTokenizer.AddSep,
        };
        settings.Resolve(table, vocabulary);
        return new BytePairTokenizer(table, settings, preTokenizer, ranks);
    }

    /// <summary>
    /// llama.cpp splits a merge at the first space after its first character: "left right". Anything without such a
    /// space becomes the empty pair.
    /// </summary>
    private static string NormalizeMerge(string merge)
    {
        int space = merge.Length > 1 ? merge.IndexOf(' ', 1) : -1;
        return space < 0 ? " " : merge;
    }

    private protected override void EncodeCore(ReadOnlySpan<char> text, List<int> output, bool addSpecial, bool parseSpecial)
    {
        var fragments = SpecialTokenSplitter.Split(Table, text, parseSpecial);
        if (addSpecial && Settings.AddBos)
            output.Add(Settings.Bos!.Value);

        var session = new MergeSession(this);
        foreach (var fragment in fragments)
        {
            if (fragment.IsToken)
            {
                output.Add(fragment.TokenId);
                continue;
            }
            var piece = text.Slice(fragment.Start, fragment.Length);
            foreach (var (start, length) in _preTokenizer.Split(piece))
                session.Tokenize(ByteLevel.Encode(piece.Slice(start, length)), output);
        }

        if (addSpecial && Settings.AddEos)
            output.Add(Settings.Eos!.Value);
        // llama.cpp's BPE tokenizer does not append a separator even where add_sep is set (jina, roberta-bpe).
    }

    private protected override byte[] PieceCore(int id)
    {
        var attributes = Table.Attributes(id);
        string text = Table.Text(id);
        if (attributes.Has(TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined))
            return Encoding.UTF8.GetBytes(text);
        if (attributes.Has(TokenAttributes.Normal))
            return DecodeByteLevel(text);
        if (attributes.Has(TokenAttributes.Byte))
            return [ByteTokens.ValueOf(text)];
        return [];
    }

    /// <summary>
    /// Maps GPT-2 byte characters back to bytes. A character outside the map is written as llama.cpp writes it:
    /// "[UNK_BYTE_0x" + its UTF-8 in hex + the whole token text + "]".
    /// </summary>
    private static byte[] DecodeByteLevel(string text)
    {
        var bytes = new List<byte>(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsBmp && ByteLevel.TryGetByte((char)rune.Value, out byte b))
            {
                bytes.Add(b);
                continue;
            }
            var utf8 = new byte[4];
            int n = rune.EncodeToUtf8(utf8);
            var hex = new StringBuilder("[UNK_BYTE_0x");
            foreach (byte u in utf8[..n])
                hex.Append(u.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            hex.Append(text).Append(']');
            bytes.AddRange(Encoding.UTF8.GetBytes(hex.ToString()));
        }
        return [.. bytes];
    }

    /// <summary>
    /// Merges within one byte-encoded word. Symbols start as single characters; the adjacent pair with the lowest
    /// merge rank is merged first (ties: leftmost), and queue entries whose text no longer matches are skipped.
    /// </summary>
    private sealed class MergeSession(BytePairTokenizer owner)
    {
        private readonly List<Symbol> _symbols = [];
        private readonly PriorityQueue<Bigram, (int Rank, int Left)> _queue = new();
        private string _word = "";

        public void Tokenize(string word, List<int> output)
        {
            var table = owner.Table;
            if (owner._preTokenizer.IgnoreMerges && table.TryGetId(word, out int whole))
            {
                output.Add(whole);
                return;
            }

            _word = word;
            _symbols.Clear();
            _queue.Clear();
            for (int offset = 0; offset < word.Length;)
            {
                int length = char.IsHighSurrogate(word[offset]) && offset + 1 < word.Length ? 2 : 1;
                int index = _symbols.Count;
                _symbols.Add(new Symbol(offset, length, index - 1, offset + length == word.Length ? -1 : index + 1));
                offset += length;
            }
            for (int i = 1; i < _symbols.Count; i++)
                TryAddBigram(i - 1, i);

            while (_queue.TryDequeue(out var bigram, out _))
            {
                var left = _symbols[bigram.Left];
                var right = _symbols[bigram.Right];
                if (left.Length == 0 || right.Length == 0)
                    continue;
                // Stale if the two symbols no longer spell the pair's text. Symbols only grow to the right from a fixed
                // start, so the same text means the same length.
                if (left.Length + right.Length != bigram.Length)
                    continue;

                left.Length += right.Length;
                left.Next = right.Next;
                right.Length = 0;
                _symbols[bigram.Left] = left;
                _symbols[bigram.Right] = right;
                if (right.Next >= 0)
                {
                    var after = _symbols[right.Next];
                    after.Prev = bigram.Left;
                    _symbols[right.Next] = after;
                }
                TryAddBigram(left.Prev, bigram.Left);
                TryAddBigram(bigram.Left, left.Next);
            }

            foreach (var symbol in _symbols)
            {
                if (symbol.Length == 0)
                    continue;
                var span = word.AsSpan(symbol.Start, symbol.Length);
                if (table.TryGetId(span, out int id))
                {
                    output.Add(id);
                    continue;
                }
                // Not a token: llama.cpp looks up each UTF-8 byte of the piece as a one-byte token (found only for ASCII).
                foreach (byte b in Encoding.UTF8.GetBytes(span.ToString()))
                {
                    if (b < 0x80 && table.TryGetId(((char)b).ToString(), out int byteId))
                        output.Add(byteId);
                }
            }
        }

        private void TryAddBigram(int left, int right)
        {
            if (left == -1 || right == -1)
                return;
            var l = _symbols[left];
            var r = _symbols[right];
            int keyLength = l.Length + 1 + r.Length;
            Span<char> key = keyLength <= 256 ? stackalloc char[keyLength] : new char[keyLength];
            _word.AsSpan(l.Start, l.Length).CopyTo(key);
            key[l.Length] = ' ';
            _word.AsSpan(r.Start, r.Length).CopyTo(key[(l.Length + 1)..]);
            if (!owner._ranksBySpan.TryGetValue(key, out int rank))
                return;
            _queue.Enqueue(new Bigram(left, right, l.Length + r.Length), (rank, left));
        }
    }

    private record struct Symbol(int Start, int Length, int Prev, int Next);

    /// <summary>A candidate merge of two adjacent symbols whose texts had this total length when it was queued.</summary>
    private readonly record struct Bigram(int Left, int Right, int Length);
}
