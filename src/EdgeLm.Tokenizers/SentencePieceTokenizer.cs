using System.Text;
using EdgeLm.Tokenizers.Internal;

namespace EdgeLm.Tokenizers;

/// <summary>
/// SentencePiece-style BPE over scores (GGUF model "llama": Llama 1/2, Mistral, Phi-3, TinyLlama, stories260K).
/// Spaces become '▁' (U+2581); text that starts the sequence or follows a special token gets a '▁' prefix when
/// add_space_prefix is on; pieces are merged pairwise, highest-scoring vocabulary entry first; anything left that is
/// not a token falls back to byte tokens &lt;0xXX&gt;.
/// </summary>
public sealed class SentencePieceTokenizer : Tokenizer
{
    private const char SpaceMarker = '\u2581';

    private SentencePieceTokenizer(VocabularyTable table, TokenizerSettings settings) : base(table, settings)
    {
    }

    /// <summary>Whether a space is put before text at the start of the sequence and after special tokens.</summary>
    public bool AddSpacePrefix => Settings.AddSpacePrefix;

    /// <summary>Builds the tokenizer from a vocabulary whose model is "llama".</summary>
    public static SentencePieceTokenizer Create(TokenizerVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var table = new VocabularyTable(vocabulary);
        var settings = new TokenizerSettings
        {
            Bos = 1, Eos = 2, Unknown = 0,
            AddSpacePrefix = vocabulary.AddSpacePrefix ?? true,
            CleanSpaces = false, AddBos = true, AddEos = false,
        };
        settings.Resolve(table, vocabulary);
        return new SentencePieceTokenizer(table, settings);
    }

    private protected override void EncodeCore(ReadOnlySpan<char> text, List<int> output, bool addSpecial, bool parseSpecial)
    {
        var fragments = SpecialTokenSplitter.Split(Table, text, parseSpecial);
        if (addSpecial && Settings.AddBos)
            output.Add(Settings.Bos!.Value);

        bool previousWasSpecial = true; // the first text gets the space prefix too
        var session = new MergeSession(Table);
        var builder = new StringBuilder();
        foreach (var fragment in fragments)
        {
            if (fragment.IsToken)
            {
                output.Add(fragment.TokenId);
                previousWasSpecial = true;
                continue;
            }
            builder.Clear();
            if (Settings.AddSpacePrefix && previousWasSpecial)
                builder.Append(SpaceMarker);
            foreach (char c in text.Slice(fragment.Start, fragment.Length))
                builder.Append(c == ' ' ? SpaceMarker : c);
            session.Tokenize(builder.ToString(), output);
            previousWasSpecial = false;
        }

        if (addSpecial && Settings.AddEos)
            output.Add(Settings.Eos!.Value);
    }

    private protected override byte[] PieceCore(int id)
    {
        var attributes = Table.Attributes(id);
        string text = Table.Text(id);
        if (attributes.Has(TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined))
            return Encoding.UTF8.GetBytes(text);
        if (attributes.Has(TokenAttributes.Normal))
            return Encoding.UTF8.GetBytes(text.Replace(SpaceMarker, ' '));
        if (attributes.Has(TokenAttributes.Byte))
            return [ByteTokens.ValueOf(text)];
        return []; // unused and undefined tokens render as nothing
    }

    /// <summary>
    /// One run of the pairwise merge over a piece of text. Symbols start as single codepoints (UTF-16 spans); the
    /// highest-scoring adjacent pair whose concatenation is a token is merged first (ties: leftmost first).
    /// </summary>
    private sealed class MergeSession(VocabularyTable table)
    {
        private readonly List<Symbol> _symbols = [];
        private readonly PriorityQueue<Bigram, Bigram> _queue = new(BigramOrder.Instance);
        // The last pair that produced each merged text: used to split a merged symbol that is not a token itself.
        private readonly Dictionary<string, (int Left, int Right)> _merges = new(StringComparer.Ordinal);
        private string _text = "";

        public void Tokenize(string text, List<int> output)
        {
            _text = text;
            _symbols.Clear();
            _queue.Clear();
            _merges.Clear();

            for (int offset = 0; offset < text.Length;)
            {
                int length = char.IsHighSurrogate(text[offset]) && offset + 1 < text.Length && char.IsLowSurrogate(text[offset + 1]) ? 2 : 1;
                int index = _symbols.Count;
                _symbols.Add(new Symbol(offset, length, index - 1, offset + length == text.Length ? -1 : index + 1));
                offset += length;
            }
            for (int i = 1; i < _symbols.Count; i++)
                TryAddBigram(i - 1, i);

            while (_queue.TryDequeue(out var bigram, out _))
            {
                var left = _symbols[bigram.Left];
                var right = _symbols[bigram.Right];
                // Skip pairs made stale by an earlier merge.
                if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Length)
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

            for (int i = _symbols.Count == 0 ? -1 : 0; i != -1; i = _symbols[i].Next)
                Resegment(_symbols[i], output);
        }

        private void TryAddBigram(int left, int right)
        {
            if (left == -1 || right == -1)
                return;
            var l = _symbols[left];
            var r = _symbols[right];
            var pair = _text.AsSpan(l.Start, l.Length + r.Length);
            if (!table.TryGetId(pair, out int id))
                return;
            var bigram = new Bigram(left, right, table.Score(id), pair.Length);
            _queue.Enqueue(bigram, bigram);
            _merges[pair.ToString()] = (left, right);
        }

        private void Resegment(Symbol symbol, List<int> output)
        {
            var span = _text.AsSpan(symbol.Start, symbol.Length);
            if (table.TryGetId(span, out int id))
            {
                output.Add(id);
                return;
            }
            if (_merges.TryGetValue(span.ToString(), out var pair))
            {
                Resegment(_symbols[pair.Left], output);
                Resegment(_symbols[pair.Right], output);
                return;
            }
            Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(span.Length)];
            int count = Encoding.UTF8.GetBytes(span, utf8);
            foreach (byte b in utf8[..count])
                output.Add(ByteTokens.IdOf(table, b));
        }
    }

    private record struct Symbol(int Start, int Length, int Prev, int Next);

    private readonly record struct Bigram(int Left, int Right, float Score, int Length);

    /// <summary>Highest score first; among equal scores the leftmost pair first.</summary>
    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare(Bigram x, Bigram y)
        {
            if (x.Score != y.Score)
                return x.Score > y.Score ? -1 : 1;
            return x.Left.CompareTo(y.Left);
        }
    }
}
