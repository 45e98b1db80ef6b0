using System.Text;

namespace EdgeLm.Runtime.Generation;

/// <summary>
/// Turns a stream of token bytes into text that is safe to show: characters split across tokens are held until
/// complete, and text that could be the start of a stop sequence is held until it is known not to be one.
/// </summary>
/// <param name="stopSequences">Texts that end the stream.</param>
/// <param name="dropLeadingSpace">
/// Drop one space at the very start of the text: for SentencePiece vocabularies that prefix the text with a space
/// when the generated text begins the document.
/// </param>
internal sealed class TextStream(IReadOnlyList<string> stopSequences, bool dropLeadingSpace = false)
{
    private bool _dropLeadingSpace = dropLeadingSpace;
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _text = new();
    private readonly char[] _chars = new char[64];
    private int _emitted;

    /// <summary>All text decoded so far, up to the stop sequence once one was found.</summary>
    public string Text => _text.ToString();

    /// <summary>True once a stop sequence was found.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds a token's bytes and returns the text that became safe to show.</summary>
    public string Append(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            _decoder.Convert(bytes, _chars, flush: false, out int used, out int written, out _);
            _text.Append(_chars, 0, written);
            bytes = bytes[used..];
        }
        if (_dropLeadingSpace && _text.Length > 0)
        {
            if (_text[0] == ' ')
                _text.Remove(0, 1);
            _dropLeadingSpace = false;
        }
        if (FindStop() is int stopAt)
        {
            Stopped = true;
            _text.Length = stopAt;
            return Emit(stopAt);
        }
        return Emit(_text.Length - HeldBack());
    }

    /// <summary>Returns whatever text is still held back (at the end of generation).</summary>
    public string Flush()
    {
        if (!Stopped)
        {
            int written = _decoder.GetChars([], 0, 0, _chars, 0, flush: true);
            _text.Append(_chars, 0, written);
        }
        return Emit(_text.Length);
    }

    private string Emit(int upTo)
    {
        if (upTo <= _emitted)
            return "";
        string delta = _text.ToString(_emitted, upTo - _emitted);
        _emitted = upTo;
        return delta;
    }

    private int? FindStop()
    {
        int? best = null;
        foreach (string stop in stopSequences)
        {
            if (stop.Length == 0)
                continue;
            // A stop sequence can only end inside the new text, so search from just before what was emitted.
            int from = Math.Max(0, _emitted - stop.Length + 1);
            int at = _text.ToString(from, _text.Length - from).IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (best is null || from + at < best))
                best = from + at;
        }
        return best;
    }

    /// <summary>Length of the longest tail of the text that is a proper prefix of a stop sequence.</summary>
    private int HeldBack()
    {
        int hold = 0;
        foreach (string stop in stopSequences)
        {
            for (int n = Math.Min(stop.Length - 1, _text.Length - _emitted); n > hold; n--)
            {
                if (EndsWith(stop.AsSpan(0, n)))
                {
                    hold = n;
                    break;
                }
            }
        }
        return hold;
    }

    private bool EndsWith(ReadOnlySpan<char> tail)
    {
        int start = _text.Length - tail.Length;
        for (int i = 0; i < tail.Length; i++)
        {
            if (_text[start + i] != tail[i])
                return false;
        }
        return true;
    }
}
