using EdgeLm.Runtime.KvCache;
using EdgeLm.Tokenizers.ChatTemplates;

namespace EdgeLm.Runtime.AI;

/// <summary>How a <see cref="ModelRunner"/> serves its model.</summary>
public sealed record ModelRunnerOptions
{
    /// <summary>Sessions (KV caches) in the pool: how many generations run at once.</summary>
    public int Sessions { get; init; } = 1;

    /// <summary>Most requests waiting for a session before new ones are refused.</summary>
    public int QueueLimit { get; init; } = 64;

    /// <summary>Context length of each session; null takes the model's (at most 4096).</summary>
    public int? ContextLength { get; init; }

    /// <summary>Worker threads of each session; null uses one per core.</summary>
    public int? Threads { get; init; }

    /// <summary>How each session's KV cache stores keys and values (F16, or Q8_0 for 53% of the memory).</summary>
    public KvCacheType CacheType { get; init; } = KvCacheType.F16;

    /// <summary>The model's name in responses; null uses the file name without its extension.</summary>
    public string? ModelId { get; init; }

    /// <summary>A chat template to use instead of the model's own.</summary>
    public ChatTemplate? ChatTemplate { get; init; }

    /// <summary>Enforces JSON response formats and required tool calls; null uses EdgeLm's grammar engine
    /// (<see cref="GrammarConstraintProvider"/>).</summary>
    public IOutputConstraintProvider? Constraints { get; init; }

    /// <summary>Most tokens generated when a request sets no limit; null allows the rest of the context.</summary>
    public int? DefaultMaxOutputTokens { get; init; }
}
