using EdgeLm.Numerics.Quants;

namespace EdgeLm.Runtime.KvCache;

/// <summary>How the KV cache stores keys or values (llama.cpp's <c>--cache-type-k</c> / <c>--cache-type-v</c>).</summary>
public enum KvCacheType
{
    /// <summary>IEEE half floats, 2 bytes per element: llama.cpp's default.</summary>
    F16,

    /// <summary>
    /// ggml Q8_0 blocks along the head dimension (32 elements in 34 bytes: an F16 scale and 32 signed 8-bit codes),
    /// 8.5 bits per element, 53% of F16. Needs heads a multiple of 32 wide.
    /// </summary>
    Q8_0,
}

/// <summary>Parsing and naming of <see cref="KvCacheType"/> values as llama.cpp spells them ("f16", "q8_0").</summary>
public static class KvCacheTypes
{
    /// <summary>The lower-case name llama.cpp uses for <paramref name="type"/>.</summary>
    public static string Name(KvCacheType type) => type switch
    {
        KvCacheType.F16 => "f16",
        KvCacheType.Q8_0 => "q8_0",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown KV cache type."),
    };

    /// <summary>Reads "f16" or "q8_0" (any case); false for anything else.</summary>
    public static bool TryParse(string? text, out KvCacheType type)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "f16": type = KvCacheType.F16; return true;
            case "q8_0": type = KvCacheType.Q8_0; return true;
            default: type = KvCacheType.F16; return false;
        }
    }

    /// <summary>
    /// True when a cache of <paramref name="type"/> can hold heads <paramref name="headDimension"/> wide: F16 always,
    /// Q8_0 when the heads are a whole number of 32-element blocks.
    /// </summary>
    public static bool Supports(KvCacheType type, int headDimension) =>
        type == KvCacheType.F16 || (type == KvCacheType.Q8_0 && headDimension > 0 && headDimension % BlockQ8_0.BlockSize == 0);

    /// <summary>The ggml storage type of <paramref name="type"/>.</summary>
    public static GgmlType ToGgmlType(KvCacheType type) => type switch
    {
        KvCacheType.F16 => GgmlType.F16,
        KvCacheType.Q8_0 => GgmlType.Q8_0,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown KV cache type."),
    };
}
