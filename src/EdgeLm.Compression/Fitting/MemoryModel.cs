using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Architectures;
using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Compression.Fitting;

/// <summary>
/// Where the memory of a running model goes, in bytes.
/// </summary>
/// <param name="Weights">The mapped model file: header, metadata and tensor data (exact).</param>
/// <param name="KvCache">The KV cache for the context (exact: what <c>KeyValueCache.ByteSize</c> reports).</param>
/// <param name="Activations">Forward-pass scratch, matrix-product scratch and attention scratch (an upper bound).</param>
/// <param name="Logits">The session's last-logits vector, vocabulary x 4 bytes.</param>
/// <param name="Tokenizer">The tokenizer's vocabulary tables and the norm vectors read out of the file (an estimate).</param>
/// <param name="Margin">A fixed allowance for the rest of the process.</param>
public sealed record MemoryBreakdown(long Weights, long KvCache, long Activations, long Logits, long Tokenizer, long Margin)
{
    /// <summary>Everything besides the weights and the KV cache.</summary>
    public long Runtime => Activations + Logits + Tokenizer + Margin;

    /// <summary>The whole estimate: what must fit the budget.</summary>
    public long Total => Weights + KvCache + Runtime;
}

/// <summary>
/// The memory EdgeLm's runtime needs to run a model with one session, from the model's shape. The KV cache and the
/// weights are exact; the rest follows what <see cref="InferenceSession"/> allocates (see each method):
/// <code>
/// B = min(batch, context), P = context rounded up to 8, C = max(E, Q, F), G = heads per KV head, T = threads
/// kv (F16)    = L x (context + P) x KV x 2                              (keys [context, KV], values transposed [KV, P])
/// kv (Q8_0)   = L x 2 x context x KV / 32 x 34                          (keys and values [context, KV] in Q8_0 blocks)
/// activations = 4B (3E + 2Q + 2KV + 2F) + 2 x (4B C + 2C + 64)          (forward buffers; matmul scratch, grown by doubling)
///             + T x (2 x (8 x 4C + 64))                                 (per-thread weight panels, grown by doubling)
///             + T x (8 A P + 8 A hd                                    (per-thread attention scores/probabilities, gathered queries/outputs,
///                    + 2 x (4 A max(hd, P) + 2 max(hd, P))                  matmul scratch
///                    + 2 x (32 max(hd, P) + 128))                           and weight panels; A = G x ForwardState.AttentionTokensPerUnit)
///             + 64 KiB                                                  (the session's objects, worker team, RoPE tables)
/// logits      = 4 V
/// tokenizer   = 4 E (2L + 1) + 4 L (Q + 2KV) + 4 x (header bytes of the file, mostly the vocabulary) + 128 V + 256 KiB
/// </code>
/// plus a fixed margin chosen by the caller for the .NET runtime and everything else in the process.
/// </summary>
public static class MemoryModel
{
    /// <summary>Bytes of the session's KV cache for <paramref name="context"/> positions, keys and values stored as <paramref name="cacheType"/>.</summary>
    public static long KvCacheBytes(TransformerHyperParameters p, int context, KvCacheType cacheType = KvCacheType.F16)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        long padded = (context + 7L) & ~7L;
        long keys = context * GgmlTypeInfo.RowBytes(KvCacheTypes.ToGgmlType(cacheType), p.KeyValueLength);
        // F16 values are stored transposed, one row per dimension over the positions rounded up to 8.
        long values = cacheType == KvCacheType.F16 ? padded * p.KeyValueLength * sizeof(ushort) : keys;
        return p.BlockCount * (keys + values);
    }

    /// <summary>Upper bound of the scratch a session allocates (forward buffers, matrix-product and attention scratch).</summary>
    public static long ActivationBytes(TransformerHyperParameters p, int context, int threads, int batchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        long B = Math.Min(batchSize, context), E = p.EmbeddingLength, Q = p.QueryLength, KV = p.KeyValueLength, F = p.FeedForwardLength;
        long C = Math.Max(E, Math.Max(Q, F)), G = p.GroupSize, P = (context + 7L) & ~7L, hd = p.HeadDimension;
        long forward = 4 * B * (3 * E + 2 * Q + 2 * KV + 2 * F) + 4L * p.RopeDimensionCount;
        long matmul = 2 * (4 * B * C + 2 * C + 64);
        long panels = threads * 2 * (8 * 4 * C + 64);
        long A = G * ForwardState.AttentionTokensPerUnit(p, context), width = Math.Max(hd, P);
        long attention = threads * (8 * A * P + 8 * A * hd + 2 * (4 * A * width + 2 * width) + 2 * (32 * width + 128));
        return forward + matmul + panels + attention + (64 << 10);
    }

    /// <summary>The session's last-logits vector.</summary>
    public static long LogitsBytes(TransformerHyperParameters p) => 4L * p.VocabularySize;

    /// <summary>
    /// Estimate of what loading keeps in managed memory besides the mapping: the norm and bias vectors read as floats,
    /// the tokenizer's tables (at most four times the file's header bytes, which are mostly the vocabulary, as strings and
    /// dictionaries, plus 128 bytes of entries per token; measured on SentencePiece and BPE vocabularies), and 256 KiB for
    /// the model's objects.
    /// </summary>
    public static long TokenizerBytes(TransformerHyperParameters p, long headerBytes)
    {
        ArgumentNullException.ThrowIfNull(p);
        long E = p.EmbeddingLength, L = p.BlockCount;
        return 4 * E * (2 * L + 1) + 4 * L * (p.QueryLength + 2L * p.KeyValueLength) + 4 * headerBytes + 128L * p.VocabularySize + (256 << 10);
    }

    /// <summary>The memory an existing model file needs at <paramref name="context"/> (its whole file as the weights).</summary>
    /// <exception cref="Runtime.ModelFormatException">The file is not a model EdgeLm can run.</exception>
    public static MemoryBreakdown ForFile(string path, int context, int threads, long margin, int batchSize = 64, KvCacheType cacheType = KvCacheType.F16)
    {
        using var file = GgufFile.Open(path);
        var p = ArchitectureRegistry.Load(file).HyperParameters;
        return new MemoryBreakdown(file.Length, KvCacheBytes(p, context, cacheType), ActivationBytes(p, context, threads, batchSize), LogitsBytes(p),
            TokenizerBytes(p, file.DataOffset), margin);
    }
}
