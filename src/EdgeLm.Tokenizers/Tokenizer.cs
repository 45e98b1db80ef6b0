using System.Text;
using EdgeLm.Tokenizers.Internal;

namespace EdgeLm.Tokenizers;

/// <summary>
/// Turns text into token ids and back, giving exactly the ids llama.cpp gives for the same vocabulary. Made by
/// <see cref="FromGguf"/>, <see cref="FromHuggingFace"/> or <see cref="FromVocabulary"/>; the concrete kinds are
/// <see cref="SentencePieceTokenizer"/> (GGUF model "llama"), <see cref="BytePairTokenizer"/> ("gpt2") and
/// <see cref="WordPieceTokenizer"/> ("bert"). Instances are immutable and safe to use from several threads.
/// </summary>
public abstract partial class Tokenizer
{
    private PieceTable? _pieces;

    private protected Tokenizer(VocabularyTable table, TokenizerSettings settings)
    {
        Table = table;
        Settings = settings;
    }

    internal VocabularyTable Table { get; }

    private protected TokenizerSettings Settings { get; }

    /// <summary>Number of tokens in the vocabulary; valid ids are 0 .. VocabularySize - 1.</summary>
    public int VocabularySize => Table.Count;

    /// <summary>
    /// The beginning-of-sequence token, or -1 when there is none. Where a vocabulary states none, llama.cpp's model
    /// defaults stand (SentencePiece 1, byte-level BPE 11, WordPiece 101), as they do in llama.cpp.
    /// </summary>
    public int BosId => Settings.Bos ?? -1;

    /// <summary>
    /// The end-of-sequence token, or -1 when the vocabulary has none. For WordPiece this is the separator ([SEP]) that
    /// closes every encoded sequence.
    /// </summary>
    public int EosId => Settings.Eos ?? -1;

    /// <summary>The end-of-turn token of chat models (stated in the vocabulary or found by its text, e.g. &lt;|im_end|&gt;).</summary>
    public int? EotId => Settings.Eot;

    /// <summary>The unknown token, if the vocabulary has one.</summary>
    public int? UnknownId => Settings.Unknown;

    /// <summary>The padding token, if the vocabulary has one.</summary>
    public int? PaddingId => Settings.Padding;

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with addSpecial puts <see cref="BosId"/> first.</summary>
    public bool AddBos => Settings.AddBos;

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with addSpecial puts <see cref="EosId"/> last.</summary>
    public bool AddEos => Settings.AddEos;

    /// <summary>
    /// Whether <see cref="Decode(ReadOnlySpan{int}, bool)"/> tidies spaces like llama.cpp's clean_up_tokenization_spaces:
    /// " ?", " !", " .", " ," lose the space, a lone apostrophe between spaces loses both, " 's", " 'm", " 're", " 've"
    /// lose the space. When true, decoding is not an exact inverse of encoding; <see cref="TokenBytes"/> always is.
    /// </summary>
    public bool CleansUpSpaces => Settings.CleanSpaces;

    /// <summary>
    /// True when encoding puts a space before the text (SentencePiece's add_space_prefix); the space that a text's
    /// first token then carries is not part of the text and decoding drops it.
    /// </summary>
    public bool AddsSpacePrefix => Settings.AddSpacePrefix;

    /// <summary>
    /// Tokenizes text. With <paramref name="addSpecial"/>, BOS/EOS are added as <see cref="AddBos"/> and
    /// <see cref="AddEos"/> say. With <paramref name="parseSpecial"/>, control tokens written in the text (such as
    /// "&lt;|im_start|&gt;" or "&lt;s&gt;") become their single ids; without it they are tokenized as plain text.
    /// </summary>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Encode(text.AsSpan(), addSpecial, parseSpecial);
    }

    /// <inheritdoc cref="Encode(string, bool, bool)"/>
    public int[] Encode(ReadOnlySpan<char> text, bool addSpecial = true, bool parseSpecial = true)
    {
        var output = new List<int>(text.Length / 3 + 2);
        EncodeCore(text, output, addSpecial, parseSpecial);
        return [.. output];
    }

    /// <summary>Tokenizes text, appending the ids to <paramref name="destination"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> destination, bool addSpecial = true, bool parseSpecial = true)
    {
        ArgumentNullException.ThrowIfNull(destination);
        EncodeCore(text, destination, addSpecial, parseSpecial);
    }

    /// <summary>Splits off special tokens and tokenizes the text between them, appending ids to output.</summary>
    private protected abstract void EncodeCore(ReadOnlySpan<char> text, List<int> output, bool addSpecial, bool parseSpecial);

    /// <summary>
    /// Turns ids back into text, as llama.cpp's detokenizer does. Control tokens are written as their text unless
    /// <paramref name="skipSpecial"/>, which also drops a leading BOS and trailing EOS that encoding would add.
    /// A SentencePiece vocabulary's leading space (added by encoding) is removed from the first piece, except after a
    /// BOS that skipSpecial dropped (llama.cpp keeps it there). Bytes that do not form valid
    /// UTF-8 become U+FFFD; streaming callers join <see cref="TokenBytes"/> instead.
    /// </summary>
    public string Decode(ReadOnlySpan<int> tokens, bool skipSpecial = false)
    {
        var bytes = new List<byte>(tokens.Length * 4);
        DecodeCore(tokens, bytes, removeSpecial: skipSpecial, renderSpecial: !skipSpecial);
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <inheritdoc cref="Decode(ReadOnlySpan{int}, bool)"/>
    public string Decode(IEnumerable<int> tokens, bool skipSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return Decode(tokens.ToArray().AsSpan(), skipSpecial);
    }

    /// <summary>
    /// The raw bytes a token stands for (its llama.cpp piece, control tokens included as their text). Joining the
    /// bytes of a sequence and decoding them as UTF-8 gives the text without any space clean-up.
    /// </summary>
    public byte[] TokenBytes(int id)
    {
        CheckId(id);
        return Piece(id).ToArray();
    }

    /// <summary>
    /// The same bytes as <see cref="TokenBytes"/> without a copy: a view of the tokenizer's own cached piece, for
    /// per-token streaming that must not allocate. Valid as long as the tokenizer lives; never write through it.
    /// </summary>
    public ReadOnlySpan<byte> TokenBytesSpan(int id)
    {
        CheckId(id);
        return Piece(id);
    }

    /// <summary>The stored text of a token, as in the vocabulary (e.g. "▁Hello", "ĠHello", "&lt;0x0A&gt;").</summary>
    public string TokenText(int id)
    {
        CheckId(id);
        return Table.Text(id);
    }

    /// <summary>The type of a token as stored (or as llama.cpp corrects it, e.g. text-detected end-of-turn tokens are control).</summary>
    public TokenType GetTokenType(int id)
    {
        CheckId(id);
        var a = Table.Attributes(id);
        return a.Has(TokenAttributes.Control) ? TokenType.Control
            : a.Has(TokenAttributes.UserDefined) ? TokenType.UserDefined
            : a.Has(TokenAttributes.Unknown) ? TokenType.Unknown
            : a.Has(TokenAttributes.Byte) ? TokenType.Byte
            : a.Has(TokenAttributes.Unused) ? TokenType.Unused
            : a.Has(TokenAttributes.Normal) ? TokenType.Normal
            : TokenType.Undefined;
    }

    /// <summary>Whether a token is a control token (BOS, EOS, chat markers, ...).</summary>
    public bool IsControl(int id)
    {
        CheckId(id);
        return Table.Attributes(id).Has(TokenAttributes.Control);
    }

    /// <summary>Whether generating this token ends generation: EOS, EOT, EOM and the other end tokens llama.cpp knows.</summary>
    public bool IsEndOfGeneration(int id) => Table.IsValid(id) && Table.IsEndOfGeneration(id);

    /// <summary>The id of the token whose stored text is exactly <paramref name="text"/>.</summary>
    public bool TryGetTokenId(string text, out int id)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Table.TryGetId(text, out id);
    }

    /// <summary>
    /// The piece of a token as llama.cpp's token_to_piece renders it, special tokens included. Every piece is built on first use, all at once, into one flat buffer: afterwards looking
    /// a piece up allocates nothing, whichever token comes next.
    /// </summary>
    private protected ReadOnlySpan<byte> Piece(int id)
    {
        var table = _pieces ?? BuildPieces();
        return table.Bytes.AsSpan(table.Offsets[id], table.Offsets[id + 1] - table.Offsets[id]);
    }

    private PieceTable BuildPieces()
    {
        var pieces = new byte[Table.Count][];
        var offsets = new int[Table.Count + 1];
        for (int id = 0; id < pieces.Length; id++)
        {
            pieces[id] = PieceCore(id);
            offsets[id + 1] = checked(offsets[id] + pieces[id].Length);
        }
        var bytes = new byte[offsets[^1]];
        for (int id = 0; id < pieces.Length; id++)
            pieces[id].CopyTo(bytes, offsets[id]);
        // Two threads may both build it; either result is the same, and the first one stays.
        return Interlocked.CompareExchange(ref _pieces, new PieceTable(bytes, offsets), null) ?? _pieces;
    }

    /// <summary>All pieces back to back; piece <c>i</c> is <c>Bytes[Offsets[i]..Offsets[i + 1]]</c>.</summary>
    private sealed record PieceTable(byte[] Bytes, int[] Offsets);

    /// <summary>Computes the bytes of a token's piece (normal, byte and special tokens alike).</summary>
    private protected abstract byte[] PieceCore(int id);

    private void DecodeCore(ReadOnlySpan<int> tokens, List<byte> output, bool removeSpecial, bool renderSpecial)
    {
        foreach (int id in tokens)
            CheckId(id);

        bool removeSpace = Settings.AddSpacePrefix;
        if (removeSpecial && Settings.AddBos && tokens.Length > 0 && tokens[0] == Settings.Bos)
        {
            removeSpace = false;
            tokens = tokens[1..];
        }
        if (removeSpecial && Settings.AddEos && tokens.Length > 0 && tokens[^1] == Settings.Eos)
            tokens = tokens[..^1];

        foreach (int id in tokens)
        {
            if (!renderSpecial && Table.Attributes(id).Has(TokenAttributes.Control | TokenAttributes.Unknown))
                continue;
            ReadOnlySpan<byte> piece = Piece(id);
            if (removeSpace && piece.Length > 0 && piece[0] == (byte)' ')
                piece = piece[1..];
            removeSpace = false;
            output.AddRange(piece);
        }

        if (Settings.CleanSpaces)
            SpaceCleanup.Apply(output);
    }

    private void CheckId(int id)
    {
        if (!Table.IsValid(id))
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id must be in 0..{Table.Count - 1}.");
    }
}
