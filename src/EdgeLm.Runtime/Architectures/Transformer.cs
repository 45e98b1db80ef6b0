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

        for (int b = 0; b < p.BlockCount; b++)
        {
            var w = Weights.Blocks[b];

            // Attention: project, add biases, rotate, cache, attend, project back, add to the residual.
            RmsNormRows(x, w.AttentionNorm, normed, T, E, p.RmsNormEpsilon);
            trace?.Invoke("attn_norm", b, normed, T);
            s.MatMul.Multiply(w.Query, normed, q, T);
            s.MatMul.Multiply(w.Key, normed, k, T);
            s.MatMul.Multiply(w.Value, normed, v, T);
            AddBiasRows(q, w.QueryBias, T);
            AddBiasRows(k, w.KeyBias, T);
            AddBiasRows(v, w.ValueBias, T);
            for (int t = 0; t < T; t++)
            {
                RotateHeads(q.Slice(t * Q, Q), p.HeadCount, start + t);
                RotateHeads(k.Slice(t * KV, KV), p.KeyValueHeadCount, start + t);
                cache.Store(b, start + t, k.Slice(t * KV, KV), v.Slice(t * KV, KV));
            }
            trace?.Invoke("Qcur", b, q, T);
            trace?.Invoke("Kcur", b, k, T);
            trace?.Invoke("Vcur", b, v, T);
            for (int t = 0; t < T; t++)
                Attend(q.Slice(t * Q, Q), cache, b, start + t + 1, heads.Slice(t * Q, Q), s);
            trace?.Invoke("kqv_out", b, heads, T);
            s.MatMul.Multiply(w.AttentionOutput, heads, projected, T);
            TensorPrimitives.Add(x, projected, x);
            trace?.Invoke("ffn_inp", b, x, T);

            // Feed-forward: x += Wdown (silu(Wgate n) * Wup n), n = norm(x).
            RmsNormRows(x, w.FeedForwardNorm, normed, T, E, p.RmsNormEpsilon);
            trace?.Invoke("ffn_norm", b, normed, T);
            s.MatMul.Multiply(w.Gate, normed, gate, T);
            s.MatMul.Multiply(w.Up, normed, up, T);
            Activations.SwiGlu(gate, up, gate);
            trace?.Invoke("ffn_down_inp", b, gate, T);
            s.MatMul.Multiply(w.Down, gate, projected, T);
            trace?.Invoke("ffn_out", b, projected, T);
            TensorPrimitives.Add(x, projected, x);
            trace?.Invoke("l_out", b, x, T);
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

    /// <summary>RoPE on each head of one token's projection, [heads, HeadDimension].</summary>
    private void RotateHeads(Span<float> projection, int headCount, int position)
    {
        var p = HyperParameters;
        int D = p.HeadDimension;
        for (int h = 0; h < headCount; h++)
        {
            var head = projection.Slice(h * D, D);
            if (p.RopeStyle == RopeStyle.Neox)
                Rope.ApplyNeox(head, position, p.RopeDimensionCount, p.RopeFrequencyBase, p.RopeFrequencyScale, Weights.RopeFrequencyFactors);
            else
                Rope.ApplyNormal(head, position, p.RopeDimensionCount, p.RopeFrequencyBase, p.RopeFrequencyScale, Weights.RopeFrequencyFactors);
        }
    }

    /// <summary>
    /// Causal attention of one token's query heads over cached positions 0..<paramref name="count"/>-1.
    /// Like llama.cpp with an F16 cache, the query is rounded to half precision before the dot products with the
    /// keys, and so are the softmax weights before they weight the values.
    /// </summary>
    private void Attend(ReadOnlySpan<float> query, KeyValueCache cache, int block, int count, Span<float> output, ForwardState s)
    {
        var p = HyperParameters;
        int D = p.HeadDimension, KV = p.KeyValueLength;
        float scale = 1f / MathF.Sqrt(D);
        var keys = cache.Keys(block, count);
        var values = cache.Values(block, count);
        var scores = s.Scores.AsSpan(0, count);
        var queryHalf = s.QueryHalf.AsSpan();
        var valueRow = s.KeyRow.AsSpan();
        for (int h = 0; h < p.HeadCount; h++)
        {
            int kvOffset = h / p.GroupSize * D;
            HalfConvert.ToHalf(query.Slice(h * D, D), queryHalf);
            var queryBytes = MemoryMarshal.AsBytes(queryHalf);
            for (int j = 0; j < count; j++)
            {
                var keyBytes = MemoryMarshal.AsBytes(keys.Slice(j * KV + kvOffset, D));
                scores[j] = VecDot.Dot(GgmlType.F16, keyBytes, queryBytes, D) * scale;
            }
            Activations.Softmax(scores);

            var head = output.Slice(h * D, D);
            head.Clear();
            for (int j = 0; j < count; j++)
            {
                float weight = (float)(Half)scores[j];
                HalfConvert.ToSingle(values.Slice(j * KV + kvOffset, D), valueRow);
                TensorPrimitives.MultiplyAdd(valueRow, weight, head, head);
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
