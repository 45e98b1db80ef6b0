using EdgeLm.Runtime.KvCache;

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

    /// <summary>
    /// How the KV cache stores keys and values: F16 (the default), or Q8_0 for 53% of the memory (needs heads a
    /// multiple of 32 wide). <see cref="KeyCacheType"/> and <see cref="ValueCacheType"/> override it for one side.
    /// </summary>
    public KvCacheType CacheType { get; init; } = KvCacheType.F16;

    /// <summary>The key cache's type when it differs from <see cref="CacheType"/> (llama.cpp's <c>--cache-type-k</c>).</summary>
    public KvCacheType? KeyCacheType { get; init; }

    /// <summary>The value cache's type when it differs from <see cref="CacheType"/> (llama.cpp's <c>--cache-type-v</c>).</summary>
    public KvCacheType? ValueCacheType { get; init; }

    /// <summary>
    /// Store quantized keys and values under a Walsh-Hadamard rotation (heads a multiple of 64 wide), as llama.cpp does
    /// by default: more accurate for the same memory. False matches llama.cpp run with LLAMA_ATTN_ROT_DISABLE=1.
    /// </summary>
    public bool RotateQuantizedCache { get; init; } = true;
}
