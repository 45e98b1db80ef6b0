using EdgeLm.Runtime.Architectures;
using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Runtime.Generation;

/// <summary>
/// One sequence being evaluated: a KV cache and the forward pass's buffers, owned here and reused for every token.
/// Not thread-safe: one caller at a time.
/// </summary>
public sealed class InferenceSession
{
    private readonly ForwardState _state;
    private readonly float[] _lastLogits;

    internal InferenceSession(LanguageModel model, SessionOptions options)
    {
        Model = model;
        var p = model.HyperParameters;
        int context = options.ContextLength ?? Math.Min(p.ContextLength, SessionOptions.DefaultMaxContext);
        if (context <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), context, "The context length must be positive.");
        int threads = options.Threads ?? Environment.ProcessorCount;
        if (threads <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), threads, "The thread count must be positive.");
        if (options.BatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "The batch size must be positive.");
        Threads = threads;
        Cache = new KeyValueCache(p.BlockCount, context, p.KeyValueLength, p.HeadDimension,
            options.KeyCacheType ?? options.CacheType, options.ValueCacheType ?? options.CacheType, options.RotateQuantizedCache);
        _state = new ForwardState(p, Math.Min(options.BatchSize, context), context, threads);
        _lastLogits = new float[p.VocabularySize];
    }

    /// <summary>The forward pass's buffers and worker team (for diagnostics and tests).</summary>
    internal ForwardState State => _state;

    /// <summary>The model this session runs.</summary>
    public LanguageModel Model { get; }

    /// <summary>The session's KV cache.</summary>
    public KeyValueCache Cache { get; }

    /// <summary>Bytes the KV cache occupies (keys and values of every block for the whole context).</summary>
    public long CacheByteSize => Cache.ByteSize;

    /// <summary>Worker threads used for matrix products.</summary>
    public int Threads { get; }

    /// <summary>Context length: the most tokens the session can hold.</summary>
    public int ContextLength => Cache.Capacity;

    /// <summary>Tokens evaluated so far; the next token goes at this position.</summary>
    public int Position => Cache.Length;

    /// <summary>Logits after the last evaluated token, [VocabularySize].</summary>
    public ReadOnlySpan<float> LastLogits => _lastLogits;

    /// <summary>Receives named intermediate tensors of every forward pass when set.</summary>
    public TraceCallback? Trace { get; set; }

    /// <summary>Forgets every evaluated token.</summary>
    public void Reset() => Cache.Truncate(0);

    /// <summary>
    /// Evaluates <paramref name="tokens"/> after what the session holds and returns the logits after the last one.
    /// </summary>
    /// <exception cref="ContextOverflowException">The tokens do not fit the remaining context; nothing is evaluated.</exception>
    public ReadOnlySpan<float> Evaluate(ReadOnlySpan<int> tokens)
    {
        if (tokens.IsEmpty)
            throw new ArgumentException("There are no tokens to evaluate.", nameof(tokens));
        CheckFits(tokens.Length);
        for (int done = 0; done < tokens.Length; done += _state.MaxBatch)
        {
            var batch = tokens.Slice(done, Math.Min(_state.MaxBatch, tokens.Length - done));
            bool last = done + batch.Length == tokens.Length;
            Model.Transformer.Forward(batch, Cache, _state, _lastLogits, last ? LogitsMode.Last : LogitsMode.None, Trace);
        }
        return _lastLogits;
    }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> and writes the logits after every one of them into
    /// <paramref name="logits"/>, [tokens, VocabularySize].
    /// </summary>
    public void EvaluateAll(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        int V = Model.HyperParameters.VocabularySize;
        if (logits.Length < tokens.Length * V)
            throw new ArgumentException($"Logits need room for {tokens.Length} x {V} values.", nameof(logits));
        if (tokens.IsEmpty)
            return;
        CheckFits(tokens.Length);
        for (int done = 0; done < tokens.Length; done += _state.MaxBatch)
        {
            var batch = tokens.Slice(done, Math.Min(_state.MaxBatch, tokens.Length - done));
            Model.Transformer.Forward(batch, Cache, _state, logits.Slice(done * V, batch.Length * V), LogitsMode.All, Trace);
        }
        logits.Slice((tokens.Length - 1) * V, V).CopyTo(_lastLogits);
    }

    private void CheckFits(int count)
    {
        if (Position + count > ContextLength)
            throw new ContextOverflowException(Position + count, ContextLength);
    }
}
