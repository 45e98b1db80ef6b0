namespace EdgeLm.Gguf;

/// <summary>
/// A GGUF file (or a value read from one) is not what it claims to be: truncated, inconsistent, of an unsupported
/// version, or a metadata value of another type than the caller asked for. The message names the field and the
/// offending value.
/// </summary>
public class GgufFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the field and the offending value.</param>
    /// <param name="field">The metadata key, tensor or header field at fault, when known.</param>
    /// <param name="offset">The absolute file offset where the problem was found, when known.</param>
    /// <param name="innerException">The underlying failure, if any.</param>
    public GgufFormatException(string message, string? field = null, long? offset = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Field = field;
        Offset = offset;
    }

    /// <summary>The metadata key (e.g. <c>llama.block_count</c>), tensor (<c>tensor 'output.weight'</c>) or header field at fault.</summary>
    public string? Field { get; }

    /// <summary>Absolute byte offset in the file where the problem was found, when it comes from reading a file.</summary>
    public long? Offset { get; }
}
