namespace EdgeLm.Runtime.Generation;

/// <summary>Per-session settings.</summary>
public sealed record SessionOptions
{
    /// <summary>Largest context a session gets when none is asked for, to keep the KV cache small on edge devices.</summary>
    public const int DefaultMaxContext = 4096;

    /// <summary>Positions the KV cache holds; null takes the model's trained context, at most <see cref="DefaultMaxContext"/>.</summary>
    public int? ContextLength { get; init; }

    /// <summary>Worker threads for matrix products; null uses one per core.</summary>
    public int? Threads { get; init; }

    /// <summary>Most prompt tokens evaluated in one forward pass.</summary>
    public int BatchSize { get; init; } = 64;
}
