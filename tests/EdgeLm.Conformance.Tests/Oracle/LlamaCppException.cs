namespace EdgeLm.Conformance.Tests.Oracle;

/// <summary>
/// llama.cpp refused or failed an operation (load, decode, quantize). The message names the operation and
/// carries the warnings and errors llama.cpp logged while doing it, since the native side reports details
/// only through its log.
/// </summary>
public sealed class LlamaCppException : Exception
{
    public LlamaCppException(string message) : base(message) { }

    public LlamaCppException(string message, Exception inner) : base(message, inner) { }
}
