namespace EdgeLm.Runtime.AI;

/// <summary>
/// A request EdgeLm cannot serve as asked: an option out of range, more tokens asked than the context holds, a tool
/// choice naming no offered tool, a schema the constraint engine refuses. The server answers it with HTTP 400.
/// </summary>
/// <param name="message">What is wrong, in a sentence a client developer can act on.</param>
/// <param name="parameter">The request field at fault in OpenAI's naming (e.g. "max_tokens"), or null.</param>
public sealed class InvalidChatRequestException(string message, string? parameter = null, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>The request field at fault, or null.</summary>
    public string? Parameter { get; } = parameter;
}

/// <summary>Every session is busy and the queue of waiting requests is full; the server answers HTTP 503.</summary>
public sealed class SessionPoolFullException(int sessions, int queueLimit)
    : Exception($"All {sessions} sessions are busy and {queueLimit} requests are already waiting; try again later.")
{
    /// <summary>Sessions in the pool.</summary>
    public int Sessions { get; } = sessions;

    /// <summary>Most requests allowed to wait.</summary>
    public int QueueLimit { get; } = queueLimit;
}
