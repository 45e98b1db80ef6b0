namespace EdgeLm.Tokenizers;

/// <summary>Thrown when a vocabulary (GGUF metadata or tokenizer.json) is missing data or holds inconsistent data.</summary>
public sealed class TokenizerFormatException : FormatException
{
    /// <summary>Creates the exception with a message naming the problem.</summary>
    public TokenizerFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public TokenizerFormatException(string message, Exception inner) : base(message, inner) { }
}
