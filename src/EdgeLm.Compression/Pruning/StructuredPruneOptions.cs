namespace EdgeLm.Compression.Pruning;

/// <summary>
/// How much <see cref="StructuredPruner"/> keeps. GGUF stores one FFN width and one head count per model, so every
/// kept block keeps the same number of channels and heads (which ones differs per block, by measured importance).
/// </summary>
public sealed record StructuredPruneOptions
{
    /// <summary>FFN channels kept per block; null keeps all. See <see cref="FeedForwardLengthFor"/> for a ratio.</summary>
    public int? FeedForwardLength { get; init; }

    /// <summary>
    /// Key/value heads kept per block; null keeps all. A KV head goes with the query heads that share it, so the
    /// query heads become KeyValueHeadCount x (HeadCount / KeyValueHeadCount) and the grouping stays valid.
    /// </summary>
    public int? KeyValueHeadCount { get; init; }

    /// <summary>Whole blocks removed: those whose output is most similar to their input.</summary>
    public int DropBlocks { get; init; }

    /// <summary>Worker threads for writing; null for one per core.</summary>
    public int? Threads { get; init; }

    /// <summary>
    /// The FFN width that keeps the fraction <paramref name="keep"/> of <paramref name="length"/> channels, rounded to
    /// the nearest multiple of <paramref name="multiple"/> (32 by default: the block size of Q4_0/Q8_0, so ffn_down's
    /// rows can still be quantized), at least one multiple and at most <paramref name="length"/>. A keep of 1 keeps
    /// every channel even when the width is no multiple.
    /// </summary>
    public static int FeedForwardLengthFor(int length, double keep, int multiple = 32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(multiple);
        if (!(keep > 0 && keep <= 1))
            throw new ArgumentOutOfRangeException(nameof(keep), keep, "The fraction of FFN channels kept must be in (0, 1].");
        if (keep == 1)
            return length;
        if (length < multiple)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"An FFN of {length} channels is narrower than one multiple of {multiple}.");
        int rounded = (int)Math.Round(keep * length / multiple, MidpointRounding.AwayFromZero) * multiple;
        return Math.Clamp(rounded, multiple, length / multiple * multiple);
    }

    /// <summary>The key/value heads kept for a fraction <paramref name="keep"/> of <paramref name="kvHeads"/>: rounded, at least 1.</summary>
    public static int KeyValueHeadCountFor(int kvHeads, double keep)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        if (!(keep > 0 && keep <= 1))
            throw new ArgumentOutOfRangeException(nameof(keep), keep, "The fraction of heads kept must be in (0, 1].");
        return Math.Clamp((int)Math.Round(keep * kvHeads, MidpointRounding.AwayFromZero), 1, kvHeads);
    }
}
