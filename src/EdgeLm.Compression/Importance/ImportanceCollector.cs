using EdgeLm.Gguf;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Compression.Importance;

/// <summary>How <see cref="ImportanceCollector"/> runs the calibration text.</summary>
public sealed record ImportanceOptions
{
    /// <summary>Tokens per chunk (llama-imatrix -c); every chunk starts from an empty cache with BOS first.</summary>
    public int ContextLength { get; init; } = 512;

    /// <summary>At most this many chunks (llama-imatrix --chunks); null for all.</summary>
    public int? MaxChunks { get; init; }

    /// <summary>Worker threads; null for one per core.</summary>
    public int? Threads { get; init; }

    /// <summary>Also collect output.weight's input (llama-imatrix --process-output); off by default, as there.</summary>
    public bool IncludeOutput { get; init; }

    /// <summary>The calibration file's name, stored in the matrix (imatrix.datasets).</summary>
    public string Dataset { get; init; } = "";

    /// <summary>Called after each chunk with (chunks done, chunks in total).</summary>
    public Action<int, int>? Progress { get; init; }

    /// <summary>
    /// How many whole chunks of <see cref="ContextLength"/> tokens a calibration run over <paramref name="tokenCount"/>
    /// tokens takes (at most <see cref="MaxChunks"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer tokens than one chunk, or a context or chunk limit below 1.</exception>
    internal int ChunkCount(int tokenCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ContextLength, 1, nameof(ContextLength));
        if (tokenCount < ContextLength)
            throw new ArgumentException($"The calibration text has {tokenCount} tokens, fewer than one chunk of {ContextLength}.", "tokens");
        int chunks = tokenCount / ContextLength;
        if (MaxChunks is { } max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(max, 1, nameof(MaxChunks));
            chunks = Math.Min(chunks, max);
        }
        return chunks;
    }
}

/// <summary>
/// Computes an importance matrix the way llama-imatrix does: the calibration tokens are cut into chunks of the context
/// length, each evaluated from an empty cache with its first token replaced by BOS, and for every weight matrix in the
/// blocks the squares of its input activations are summed per input column over all tokens, with the token count.
/// </summary>
/// <remarks>
/// The inputs come from the forward pass's trace: attn_norm feeds attn_q/k/v, kqv_out feeds attn_output, ffn_norm
/// feeds ffn_gate/up, ffn_down_inp (silu(gate) * up) feeds ffn_down, and result_norm feeds output (only with
/// <see cref="ImportanceOptions.IncludeOutput"/>). llama.cpp also skips matrix products of fewer than 16 tokens; here
/// every token of every chunk counts, which is the same whenever chunks are evaluated whole (its default).
/// </remarks>
public static class ImportanceCollector
{
    /// <summary>Tokenizes <paramref name="text"/> (with BOS) and collects over it.</summary>
    public static ImportanceMatrix Collect(LanguageModel model, string text, ImportanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        return Collect(model, model.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false), options);
    }

    /// <summary>Collects over <paramref name="tokens"/> (BOS included when the model adds one).</summary>
    /// <exception cref="ArgumentException">Fewer tokens than one chunk.</exception>
    public static ImportanceMatrix Collect(LanguageModel model, IReadOnlyList<int> tokens, ImportanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(options);
        int n = options.ContextLength;
        int chunks = options.ChunkCount(tokens.Count);

        var sums = new Dictionary<(string Name, int Block), Accumulator>();
        var session = model.CreateSession(new SessionOptions { ContextLength = n, Threads = options.Threads });
        session.Trace = (name, block, values, rows) =>
        {
            bool wanted = block >= 0 ? name is "attn_norm" or "kqv_out" or "ffn_norm" or "ffn_down_inp"
                : options.IncludeOutput && name == "result_norm";
            if (!wanted)
                return;
            if (!sums.TryGetValue((name, block), out var acc))
                sums[(name, block)] = acc = new Accumulator(values.Length / rows);
            acc.Add(values, rows);
        };

        int V = model.HyperParameters.VocabularySize;
        float[]? logits = options.IncludeOutput ? new float[n * V] : null;
        int? bos = model.Tokenizer.AddBos ? model.Tokenizer.BosId : null;
        var chunk = new int[n];
        for (int c = 0; c < chunks; c++)
        {
            for (int i = 0; i < n; i++)
                chunk[i] = tokens[c * n + i];
            if (bos is { } b)
                chunk[0] = b;
            session.Reset();
            if (logits is not null)
                session.EvaluateAll(chunk, logits);
            else
                session.Evaluate(chunk);
            options.Progress?.Invoke(c + 1, chunks);
        }

        var entries = new List<ImportanceEntry>();
        var file = model.File;
        void Add(string weight, (string, int) source)
        {
            if (file.FindTensor(weight) is null || !sums.TryGetValue(source, out var acc))
                return;
            entries.Add(new ImportanceEntry(weight, (float[])acc.Sums.Clone(), [acc.Count]));
        }
        for (int b = 0; b < model.HyperParameters.BlockCount; b++)
        {
            Add(TensorNames.Weight(TensorNames.AttentionQuery(b)), ("attn_norm", b));
            Add(TensorNames.Weight(TensorNames.AttentionKey(b)), ("attn_norm", b));
            Add(TensorNames.Weight(TensorNames.AttentionValue(b)), ("attn_norm", b));
            Add(TensorNames.Weight(TensorNames.AttentionOutput(b)), ("kqv_out", b));
            Add(TensorNames.Weight(TensorNames.FeedForwardGate(b)), ("ffn_norm", b));
            Add(TensorNames.Weight(TensorNames.FeedForwardUp(b)), ("ffn_norm", b));
            Add(TensorNames.Weight(TensorNames.FeedForwardDown(b)), ("ffn_down_inp", b));
        }
        if (options.IncludeOutput)
            Add(TensorNames.Weight(TensorNames.Output), ("result_norm", -1));
        return new ImportanceMatrix(entries, [options.Dataset], chunks, n);
    }

    /// <summary>Per-column sums of squares of one traced activation, [width], and the rows seen.</summary>
    private sealed class Accumulator(int width)
    {
        public float[] Sums { get; } = new float[width];

        public float Count { get; private set; }

        public void Add(ReadOnlySpan<float> rows, int count)
        {
            int w = Sums.Length;
            for (int r = 0; r < count; r++)
            {
                var x = rows.Slice(r * w, w);
                for (int j = 0; j < w; j++)
                    Sums[j] += x[j] * x[j];
            }
            Count += count;
        }
    }
}
