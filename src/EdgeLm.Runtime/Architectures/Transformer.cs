using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Runtime.Architectures;

/// <summary>Which positions of a forward pass produce logits.</summary>
public enum LogitsMode
{
    /// <summary>None: the pass only fills the KV cache.</summary>
    None,

    /// <summary>The last position of the batch only.</summary>
    Last,

    /// <summary>Every position of the batch.</summary>
    All,
}

/// <summary>
/// The decoder-only transformer of the Llama family (Llama 2/3, Mistral, SmolLM, TinyLlama, Qwen2): pre-RMSNorm blocks
/// of grouped-query self-attention with rotary positions and a SwiGLU feed-forward network.
/// <code>
/// x = embed(token)
/// for each block:  h = x + Wo · attention(rope(Wq·norm(x) + bq), rope(Wk·norm(x) + bk), Wv·norm(x) + bv)
///                  x = h + Wdown · (silu(Wgate·norm(h)) * Wup·norm(h))
/// logits = Woutput · norm(x)
/// </code>
/// </summary>
public sealed class Transformer(TransformerHyperParameters hyperParameters, TransformerWeights weights)
{
    /// <summary>The model's shape.</summary>
    public TransformerHyperParameters HyperParameters { get; } = hyperParameters;

    /// <summary>The model's weights (in the mapped file).</summary>
    public TransformerWeights Weights { get; } = weights;

    /// <summary>
    /// Runs <paramref name="tokens"/> (at most <see cref="ForwardState.MaxBatch"/>) at positions
    /// cache.Length.., appends their keys and values to <paramref name="cache"/>, and writes logits:
    /// [VocabularySize] for <see cref="LogitsMode.Last"/>, [tokens, VocabularySize] for <see cref="LogitsMode.All"/>.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, KeyValueCache cache, ForwardState s, Span<float> logits, LogitsMode mode, TraceCallback? trace = null)
    {
        var p = HyperParameters;
        int T = tokens.Length, E = p.EmbeddingLength, Q = p.QueryLength, KV = p.KeyValueLength, F = p.FeedForwardLength, V = p.VocabularySize;
        int start = cache.Length;
        if (T == 0 || T > s.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(tokens), T, $"A forward pass takes 1 to {s.MaxBatch} tokens.");
        if (start + T > cache.Capacity)
            throw new ContextOverflowException(start + T, cache.Capacity);
        int logitRows = mode switch { LogitsMode.All => T, LogitsMode.Last => 1, _ => 0 };
        if (logits.Length < logitRows * V)
            throw new ArgumentException($"Logits need room for {logitRows} x {V} values.", nameof(logits));

        Span<float> x = s.Residual.AsSpan(0, T * E);
        Span<float> normed = s.Normed.AsSpan(0, T * E);
        Span<float> q = s.Query.AsSpan(0, T * Q), k = s.Key.AsSpan(0, T * KV), v = s.Value.AsSpan(0, T * KV);
        Span<float> heads = s.AttentionHeads.AsSpan(0, T * Q), projected = s.Projected.AsSpan(0, T * E);
        Span<float> gate = s.Gate.AsSpan(0, T * F), up = s.Up.AsSpan(0, T * F);

        // x = embed(token), one row of the embedding table per token.
        var embedding = Weights.TokenEmbedding;
        for (int t = 0; t < T; t++)
        {
            if ((uint)tokens[t] >= (uint)V)
                throw new ArgumentOutOfRangeException(nameof(tokens), tokens[t], $"Token ids run from 0 to {V - 1}.");
            Dequantize.Row(embedding.Type, embedding.Row(tokens[t]), x.Slice(t * E, E));
        }
        trace?.Invoke("inp_embd", -1, x, T);

        try
        {
            for (int b = 0; b < p.BlockCount; b++)
            {
                var w = Weights.Blocks[b];

                // Attention: project, add biases, rotate, cache, attend, project back, add to the residual.
                RmsNormRows(x, w.AttentionNorm, normed, T, E, p.RmsNormEpsilon);
                trace?.Invoke("attn_norm", b, normed, T);
                s.MatMul.Multiply(w.Query, q, w.Key, k, w.Value, v, normed, T);
                AddBiasRows(q, w.QueryBias, T);
                AddBiasRows(k, w.KeyBias, T);
                AddBiasRows(v, w.ValueBias, T);
                for (int t = 0; t < T; t++)
                {
                    Rope.Angles(start + t, p.RopeDimensionCount, p.RopeFrequencyBase, p.RopeFrequencyScale, Weights.RopeFrequencyFactors, s.RopeCos, s.RopeSin);
                    RotateHeads(q.Slice(t * Q, Q), p.HeadCount, s);
                    RotateHeads(k.Slice(t * KV, KV), p.KeyValueHeadCount, s);
                    cache.Store(b, start + t, k.Slice(t * KV, KV), v.Slice(t * KV, KV));
                }
                trace?.Invoke("Qcur", b, q, T);
                trace?.Invoke("Kcur", b, k, T);
                trace?.Invoke("Vcur", b, v, T);
                cache.ApplyKeyRotation(q); // queries meet keys stored rotated (a quantized cache): q·k is unchanged
                Attend(cache, b, start, T, s);
                cache.ApplyValueRotation(heads); // a sum of rotated values, rotated back
                trace?.Invoke("kqv_out", b, heads, T);
                s.MatMul.Multiply(w.AttentionOutput, heads, projected, T);
                TensorPrimitives.Add(x, projected, x);
                trace?.Invoke("ffn_inp", b, x, T);

                // Feed-forward: x += Wdown (silu(Wgate n) * Wup n), n = norm(x).
                RmsNormRows(x, w.FeedForwardNorm, normed, T, E, p.RmsNormEpsilon);
                trace?.Invoke("ffn_norm", b, normed, T);
                s.MatMul.Multiply(w.Gate, gate, w.Up, up, normed, T);
                Activations.SwiGlu(gate, up, gate);
                trace?.Invoke("ffn_down_inp", b, gate, T);
                s.MatMul.Multiply(w.Down, gate, projected, T);
                trace?.Invoke("ffn_out", b, projected, T);
                TensorPrimitives.Add(x, projected, x);
                trace?.Invoke("l_out", b, x, T);
            }
        }
        catch
        {
            cache.ClearValues(start, start + T); // keep the cache's zero-padding invariant for the next pass
            throw;
        }
        cache.Commit(start + T);

        if (logitRows == 0)
            return;
        // Only the rows that need logits go through the final norm and the (large) output matrix.
        int first = T - logitRows;
        var last = x.Slice(first * E, logitRows * E);
        var lastNormed = normed.Slice(0, logitRows * E);
        RmsNormRows(last, Weights.OutputNorm, lastNormed, logitRows, E, p.RmsNormEpsilon);
        trace?.Invoke("result_norm", -1, lastNormed, logitRows);
        s.MatMul.Multiply(Weights.Output, lastNormed, logits.Slice(0, logitRows * V), logitRows);
        trace?.Invoke("result_output", -1, logits.Slice(0, logitRows * V), logitRows);
    }

    /// <summary>RoPE on each head of one token's projection, [heads, HeadDimension], with that position's angles in <paramref name="s"/>.</summary>
    private void RotateHeads(Span<float> projection, int headCount, ForwardState s)
    {
        var p = HyperParameters;
        int D = p.HeadDimension;
        for (int h = 0; h < headCount; h++)
        {
            var head = projection.Slice(h * D, D);
            if (p.RopeStyle == RopeStyle.Neox)
                Rope.ApplyNeox(head, s.RopeCos, s.RopeSin);
            else
                Rope.ApplyNormal(head, s.RopeCos, s.RopeSin);
        }
    }

    /// <summary>
    /// Causal attention of the batch's <paramref name="T"/> tokens (positions start..start+T-1, already in the cache)
    /// into s.AttentionHeads, [T, HeadCount * HeadDimension]. The units of work are (token block, KV head) pairs, taken
    /// by the worker threads from a shared counter. A block is up to <see cref="ForwardState.AttentionTokens"/>
    /// consecutive tokens (one while decoding): their A = tokens x GroupSize queries meet the keys together, so each
    /// key is read once per block, not once per token. Each unit is two small products on its thread, over the
    /// n_max positions the block's last token sees:
    /// <code>
    /// scores[i, j] = scale * K[j] . q_i          (i over the A queries, j over positions 0..n_max-1)
    /// probs[i]     = softmax(scores[i, 0..n_i])  (n_i = the positions query i's token sees; zeros after, to a multiple of 8)
    /// out_i[d]     = V^T[d] . probs[i]
    /// </code>
    /// A query's scores beyond its own n_i are computed and then ignored (the causal mask), and its zero probabilities
    /// add exact zeros, so every output equals the one a token-by-token pass gives.
    /// Like llama.cpp with an F16 cache (no flash attention), the queries are rounded to half precision before meeting
    /// the keys, and so are the probabilities before meeting the values; both products sum over eight float lanes.
    /// With a Q8_0 key cache the queries are quantized to Q8_0 and meet the keys in integer dot products, as llama.cpp
    /// does for a q8_0 K cache. With a Q8_0 value cache the softmax and the weighted sum of values are one pass over
    /// the positions (<see cref="AttentionKernels.SoftmaxWeightedSum"/>), as llama.cpp's flash attention does for a
    /// quantized V cache. (Forward rotates the queries beforehand and the output afterwards when the cache stores a
    /// quantized side rotated: see <see cref="KeyValueCache"/>.)
    /// </summary>
    private void Attend(KeyValueCache cache, int block, int start, int T, ForwardState s)
    {
        s.NextAttentionUnit = 0;
        var job = s.AttentionJob ??= new AttentionJob(this, s);
        job.Cache = cache;
        job.Block = block;
        job.Start = start;
        job.Tokens = T;
        job.Units = (T + s.AttentionTokens - 1) / s.AttentionTokens * HyperParameters.KeyValueHeadCount;
        if (job.Units == 1 || s.MatMul.Threads == 1)
            job.Run(0);
        else
            s.MatMul.Workers.Run(job.RunPart);
        job.Cache = null;
    }

    /// <summary>The attention job of one block, reused for every block and token (no allocation per call).</summary>
    internal sealed class AttentionJob
    {
        private readonly Transformer _model;
        private readonly ForwardState _state;

        public AttentionJob(Transformer model, ForwardState state)
        {
            _model = model;
            _state = state;
            RunPart = Run;
        }

        public Action<int> RunPart { get; }

        public KeyValueCache? Cache;
        public int Block, Start, Tokens, Units;

        public void Run(int part)
        {
            var p = _model.HyperParameters;
            var scratch = _state.Attention[part];
            int kvHeads = p.KeyValueHeadCount, D = p.HeadDimension, G = p.GroupSize, Q = p.QueryLength;
            int tokensPerUnit = _state.AttentionTokens;
            float scale = 1f / MathF.Sqrt(D);
            var cache = Cache!;
            while (true)
            {
                int unit = Interlocked.Increment(ref _state.NextAttentionUnit) - 1;
                if (unit >= Units)
                    return;
                int t0 = unit / kvHeads * tokensPerUnit, g = unit % kvHeads;
                int tokens = Math.Min(tokensPerUnit, Tokens - t0), A = tokens * G;
                int nMax = Start + t0 + tokens, paddedMax = (nMax + 7) & ~7;

                // The unit's queries, [A, D]: one token's group is contiguous in the batch; several are gathered.
                Span<float> queries;
                if (tokens == 1)
                    queries = _state.Query.AsSpan(t0 * Q + g * G * D, G * D);
                else
                {
                    queries = scratch.Queries.AsSpan(0, A * D);
                    for (int k = 0; k < tokens; k++)
                        _state.Query.AsSpan((t0 + k) * Q + g * G * D, G * D).CopyTo(queries.Slice(k * G * D));
                }
                var scores = scratch.Scores.AsSpan(0, A * nMax);
                scratch.MatMul.Multiply(cache.KeyMatrix(Block, g, nMax), queries, scores, A);

                if (cache.ValueType == KvCacheType.Q8_0)
                {
                    for (int i = 0; i < A; i++)
                    {
                        int t = t0 + i / G, n = Start + t + 1;
                        var row = scores.Slice(i * nMax, n);
                        TensorPrimitives.Multiply(row, scale, row);
                        var output = _state.AttentionHeads.AsSpan(t * Q + g * G * D + i % G * D, D);
                        AttentionKernels.SoftmaxWeightedSum(row, cache.ValueRows(Block, g, n), output);
                    }
                    continue;
                }
                var probs = scratch.Probabilities.AsSpan(0, A * paddedMax);
                for (int i = 0; i < A; i++)
                {
                    int n = Start + t0 + i / G + 1;
                    var row = scores.Slice(i * nMax, n);
                    TensorPrimitives.Multiply(row, scale, row);
                    Activations.Softmax(row);
                    row.CopyTo(probs.Slice(i * paddedMax, n));
                    probs.Slice(i * paddedMax + n, paddedMax - n).Clear();
                }
                if (tokens == 1)
                {
                    scratch.MatMul.Multiply(cache.ValueMatrix(Block, g, paddedMax), probs, _state.AttentionHeads.AsSpan(t0 * Q + g * G * D, G * D), G);
                    continue;
                }
                var gathered = scratch.Output.AsSpan(0, A * D);
                scratch.MatMul.Multiply(cache.ValueMatrix(Block, g, paddedMax), probs, gathered, A);
                for (int k = 0; k < tokens; k++)
                    gathered.Slice(k * G * D, G * D).CopyTo(_state.AttentionHeads.AsSpan((t0 + k) * Q + g * G * D, G * D));
            }
        }
    }

    private static void RmsNormRows(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, int rows, int width, float epsilon)
    {
        for (int r = 0; r < rows; r++)
            Norms.RmsNorm(x.Slice(r * width, width), weight, epsilon, y.Slice(r * width, width));
    }

    private static void AddBiasRows(Span<float> rows, float[]? bias, int count)
    {
        if (bias is null)
            return;
        for (int r = 0; r < count; r++)
        {
            var row = rows.Slice(r * bias.Length, bias.Length);
            TensorPrimitives.Add(row, bias, row);
        }
    }
}
