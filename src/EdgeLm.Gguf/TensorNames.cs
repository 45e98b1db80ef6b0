namespace EdgeLm.Gguf;

/// <summary>
/// Tensor base names as llama.cpp writes them (its per-architecture name table). Append <see cref="Weight"/> or
/// <see cref="Bias"/> for the stored tensor: <c>TensorNames.Weight(TensorNames.AttentionQuery(0))</c> is
/// <c>blk.0.attn_q.weight</c>.
/// </summary>
public static class TensorNames
{
    /// <summary>Token embedding table, GGUF dims (embedding, vocab).</summary>
    public const string TokenEmbedding = "token_embd";
    /// <summary>Normalization right after the token embedding (BERT, Bloom).</summary>
    public const string TokenEmbeddingNorm = "token_embd_norm";
    /// <summary>Token-type embeddings (BERT).</summary>
    public const string TokenTypes = "token_types";
    /// <summary>Learned absolute position embeddings (GPT-2, BERT).</summary>
    public const string PositionEmbedding = "position_embd";
    /// <summary>Final normalization before the output projection.</summary>
    public const string OutputNorm = "output_norm";
    /// <summary>Output projection (LM head), GGUF dims (embedding, vocab); absent when tied to the token embedding.</summary>
    public const string Output = "output";
    /// <summary>Per-dimension RoPE frequency factors (Llama 3.1 style long context).</summary>
    public const string RopeFrequencies = "rope_freqs";
    /// <summary>Long-context RoPE factors (Phi-3).</summary>
    public const string RopeFactorsLong = "rope_factors_long";
    /// <summary>Short-context RoPE factors (Phi-3).</summary>
    public const string RopeFactorsShort = "rope_factors_short";

    /// <summary><c>blk.{i}.attn_norm</c>: normalization before attention.</summary>
    public static string AttentionNorm(int i) => Block(i, "attn_norm");
    /// <summary><c>blk.{i}.attn_norm_2</c>.</summary>
    public static string AttentionNorm2(int i) => Block(i, "attn_norm_2");
    /// <summary><c>blk.{i}.attn_q</c>: query projection, GGUF dims (embedding, heads x headDim).</summary>
    public static string AttentionQuery(int i) => Block(i, "attn_q");
    /// <summary><c>blk.{i}.attn_k</c>: key projection, GGUF dims (embedding, kvHeads x headDim).</summary>
    public static string AttentionKey(int i) => Block(i, "attn_k");
    /// <summary><c>blk.{i}.attn_v</c>: value projection, GGUF dims (embedding, kvHeads x headDim).</summary>
    public static string AttentionValue(int i) => Block(i, "attn_v");
    /// <summary><c>blk.{i}.attn_qkv</c>: fused query/key/value projection.</summary>
    public static string AttentionQkv(int i) => Block(i, "attn_qkv");
    /// <summary><c>blk.{i}.attn_output</c>: attention output projection, GGUF dims (heads x headDim, embedding).</summary>
    public static string AttentionOutput(int i) => Block(i, "attn_output");
    /// <summary><c>blk.{i}.attn_q_norm</c>: per-head query normalization (Qwen3, OLMo 2).</summary>
    public static string AttentionQueryNorm(int i) => Block(i, "attn_q_norm");
    /// <summary><c>blk.{i}.attn_k_norm</c>: per-head key normalization.</summary>
    public static string AttentionKeyNorm(int i) => Block(i, "attn_k_norm");
    /// <summary><c>blk.{i}.attn_output_norm</c>: normalization after attention (BERT).</summary>
    public static string AttentionOutputNorm(int i) => Block(i, "attn_output_norm");
    /// <summary><c>blk.{i}.post_attention_norm</c>: normalization of the attention output (Gemma 2/3).</summary>
    public static string PostAttentionNorm(int i) => Block(i, "post_attention_norm");
    /// <summary><c>blk.{i}.ffn_norm</c>: normalization before the feed-forward network.</summary>
    public static string FeedForwardNorm(int i) => Block(i, "ffn_norm");
    /// <summary><c>blk.{i}.ffn_gate</c>: gate projection, GGUF dims (embedding, ff).</summary>
    public static string FeedForwardGate(int i) => Block(i, "ffn_gate");
    /// <summary><c>blk.{i}.ffn_up</c>: up projection, GGUF dims (embedding, ff).</summary>
    public static string FeedForwardUp(int i) => Block(i, "ffn_up");
    /// <summary><c>blk.{i}.ffn_down</c>: down projection, GGUF dims (ff, embedding).</summary>
    public static string FeedForwardDown(int i) => Block(i, "ffn_down");
    /// <summary><c>blk.{i}.post_ffw_norm</c>: normalization of the feed-forward output (Gemma 2/3).</summary>
    public static string PostFeedForwardNorm(int i) => Block(i, "post_ffw_norm");
    /// <summary><c>blk.{i}.layer_output_norm</c>: normalization at the end of a layer (BERT).</summary>
    public static string LayerOutputNorm(int i) => Block(i, "layer_output_norm");
    /// <summary><c>blk.{i}.ffn_gate_inp</c>: mixture-of-experts router.</summary>
    public static string FeedForwardGateInput(int i) => Block(i, "ffn_gate_inp");
    /// <summary><c>blk.{i}.ffn_gate_exps</c>: stacked expert gate projections.</summary>
    public static string FeedForwardGateExperts(int i) => Block(i, "ffn_gate_exps");
    /// <summary><c>blk.{i}.ffn_up_exps</c>: stacked expert up projections.</summary>
    public static string FeedForwardUpExperts(int i) => Block(i, "ffn_up_exps");
    /// <summary><c>blk.{i}.ffn_down_exps</c>: stacked expert down projections.</summary>
    public static string FeedForwardDownExperts(int i) => Block(i, "ffn_down_exps");

    /// <summary>The weight tensor of a base name: <c>{name}.weight</c>.</summary>
    public static string Weight(string name) => name + ".weight";

    /// <summary>The bias tensor of a base name: <c>{name}.bias</c>.</summary>
    public static string Bias(string name) => name + ".bias";

    /// <summary><c>blk.{i}.{suffix}</c> for any per-block name not listed here.</summary>
    public static string Block(int i, string suffix)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        return $"blk.{i}.{suffix}";
    }
}
