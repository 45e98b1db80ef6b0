namespace EdgeLm.Runtime;

/// <summary>
/// A prompt (or a prompt plus generated tokens) does not fit the session's context. EdgeLm never truncates silently.
/// </summary>
public sealed class ContextOverflowException(int requested, int capacity)
    : Exception($"{requested} tokens do not fit the context of {capacity} tokens; shorten the prompt or raise the context length.")
{
    /// <summary>Tokens that would have been needed.</summary>
    public int Requested { get; } = requested;

    /// <summary>The context length.</summary>
    public int Capacity { get; } = capacity;
}
