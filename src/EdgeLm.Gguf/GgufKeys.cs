namespace EdgeLm.Gguf;

/// <summary>
/// Metadata key names, spelled exactly as llama.cpp writes and reads them. Architecture-scoped keys are methods
/// taking the architecture name (the value of <see cref="GeneralArchitecture"/>, e.g. "llama").
/// </summary>
public static class GgufKeys
{
    // ---- general ----
    /// <summary>The model architecture, e.g. "llama"; prefixes the architecture-scoped keys.</summary>
    public const string GeneralArchitecture = "general.architecture";
    /// <summary>Alignment of tensor data (UInt32, a power of two; 32 when absent).</summary>
    public const string GeneralAlignment = "general.alignment";
    /// <summary>Version of the quantization formats (UInt32).</summary>
    public const string GeneralQuantizationVersion = "general.quantization_version";
    /// <summary>Human-readable model name.</summary>
    public const string GeneralName = "general.name";
    /// <summary>Model author.</summary>
    public const string GeneralAuthor = "general.author";
    /// <summary>Model version string.</summary>
    public const string GeneralVersion = "general.version";
    /// <summary>Homepage URL.</summary>
    public const string GeneralUrl = "general.url";
    /// <summary>Free-form description.</summary>
    public const string GeneralDescription = "general.description";
    /// <summary>SPDX licence expression.</summary>
    public const string GeneralLicense = "general.license";
    /// <summary>"model", "adapter", ...</summary>
    public const string GeneralType = "general.type";
    /// <summary>Base model name.</summary>
    public const string GeneralBaseName = "general.basename";
    /// <summary>Fine-tune goal, e.g. "Instruct".</summary>
    public const string GeneralFineTune = "general.finetune";
    /// <summary>Size class, e.g. "8B".</summary>
    public const string GeneralSizeLabel = "general.size_label";
    /// <summary>Organization.</summary>
    public const string GeneralOrganization = "general.organization";
    /// <summary>Type of most tensors (llama.cpp's llama_ftype numbering, UInt32).</summary>
    public const string GeneralFileType = "general.file_type";
    /// <summary>Source URL.</summary>
    public const string GeneralSourceUrl = "general.source.url";

    // ---- tokenizer ----
    /// <summary>Tokenizer family: "llama" (SentencePiece), "gpt2" (byte-level BPE), "bert" (WordPiece), ...</summary>
    public const string TokenizerModel = "tokenizer.ggml.model";
    /// <summary>Pre-tokenizer name for BPE vocabularies: "default", "llama-bpe", "qwen2", ...</summary>
    public const string TokenizerPre = "tokenizer.ggml.pre";
    /// <summary>Token texts, indexed by token id (array of strings).</summary>
    public const string TokenizerTokens = "tokenizer.ggml.tokens";
    /// <summary>Token scores (array of Float32).</summary>
    public const string TokenizerScores = "tokenizer.ggml.scores";
    /// <summary>Token types (array of Int32: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).</summary>
    public const string TokenizerTokenType = "tokenizer.ggml.token_type";
    /// <summary>Number of token types (BERT).</summary>
    public const string TokenizerTokenTypeCount = "tokenizer.ggml.token_type_count";
    /// <summary>BPE merges, "a b" per entry, highest priority first (array of strings).</summary>
    public const string TokenizerMerges = "tokenizer.ggml.merges";
    /// <summary>Beginning-of-sequence token id.</summary>
    public const string TokenizerBosTokenId = "tokenizer.ggml.bos_token_id";
    /// <summary>End-of-sequence token id.</summary>
    public const string TokenizerEosTokenId = "tokenizer.ggml.eos_token_id";
    /// <summary>End-of-turn token id.</summary>
    public const string TokenizerEotTokenId = "tokenizer.ggml.eot_token_id";
    /// <summary>End-of-message token id.</summary>
    public const string TokenizerEomTokenId = "tokenizer.ggml.eom_token_id";
    /// <summary>Unknown-token id.</summary>
    public const string TokenizerUnknownTokenId = "tokenizer.ggml.unknown_token_id";
    /// <summary>Separator token id. The misspelling "seperator" is the real key.</summary>
    public const string TokenizerSeparatorTokenId = "tokenizer.ggml.seperator_token_id";
    /// <summary>Padding token id.</summary>
    public const string TokenizerPaddingTokenId = "tokenizer.ggml.padding_token_id";
    /// <summary>Classification token id (BERT).</summary>
    public const string TokenizerClsTokenId = "tokenizer.ggml.cls_token_id";
    /// <summary>Mask token id (BERT).</summary>
    public const string TokenizerMaskTokenId = "tokenizer.ggml.mask_token_id";
    /// <summary>Whether to prepend BOS (Bool).</summary>
    public const string TokenizerAddBosToken = "tokenizer.ggml.add_bos_token";
    /// <summary>Whether to append EOS (Bool).</summary>
    public const string TokenizerAddEosToken = "tokenizer.ggml.add_eos_token";
    /// <summary>Whether to append a separator (Bool).</summary>
    public const string TokenizerAddSepToken = "tokenizer.ggml.add_sep_token";
    /// <summary>Whether SentencePiece adds a leading space (Bool).</summary>
    public const string TokenizerAddSpacePrefix = "tokenizer.ggml.add_space_prefix";
    /// <summary>Whether SentencePiece collapses runs of whitespace (Bool).</summary>
    public const string TokenizerRemoveExtraWhitespaces = "tokenizer.ggml.remove_extra_whitespaces";
    /// <summary>SentencePiece normalizer's precompiled character map (array of UInt8).</summary>
    public const string TokenizerPrecompiledCharsMap = "tokenizer.ggml.precompiled_charsmap";
    /// <summary>A whole Hugging Face tokenizer.json.</summary>
    public const string TokenizerHuggingFaceJson = "tokenizer.huggingface.json";
    /// <summary>The default chat template (Jinja).</summary>
    public const string TokenizerChatTemplate = "tokenizer.chat_template";
    /// <summary>Fill-in-the-middle prefix token id.</summary>
    public const string TokenizerFimPreTokenId = "tokenizer.ggml.fim_pre_token_id";
    /// <summary>Fill-in-the-middle suffix token id.</summary>
    public const string TokenizerFimSufTokenId = "tokenizer.ggml.fim_suf_token_id";
    /// <summary>Fill-in-the-middle middle token id.</summary>
    public const string TokenizerFimMidTokenId = "tokenizer.ggml.fim_mid_token_id";
    /// <summary>Fill-in-the-middle padding token id.</summary>
    public const string TokenizerFimPadTokenId = "tokenizer.ggml.fim_pad_token_id";
    /// <summary>Fill-in-the-middle repository token id.</summary>
    public const string TokenizerFimRepTokenId = "tokenizer.ggml.fim_rep_token_id";
    /// <summary>Fill-in-the-middle file separator token id.</summary>
    public const string TokenizerFimSepTokenId = "tokenizer.ggml.fim_sep_token_id";

    /// <summary>A named extra chat template: <c>tokenizer.chat_template.{name}</c>.</summary>
    public static string TokenizerChatTemplateNamed(string name) => $"tokenizer.chat_template.{name}";

    // ---- architecture-scoped ----
    /// <summary><c>{arch}.vocab_size</c>.</summary>
    public static string VocabSize(string arch) => $"{arch}.vocab_size";
    /// <summary><c>{arch}.context_length</c>: the training context.</summary>
    public static string ContextLength(string arch) => $"{arch}.context_length";
    /// <summary><c>{arch}.embedding_length</c>: the model width.</summary>
    public static string EmbeddingLength(string arch) => $"{arch}.embedding_length";
    /// <summary><c>{arch}.block_count</c>: the number of transformer layers.</summary>
    public static string BlockCount(string arch) => $"{arch}.block_count";
    /// <summary><c>{arch}.feed_forward_length</c>: the FFN hidden width.</summary>
    public static string FeedForwardLength(string arch) => $"{arch}.feed_forward_length";
    /// <summary><c>{arch}.use_parallel_residual</c>.</summary>
    public static string UseParallelResidual(string arch) => $"{arch}.use_parallel_residual";
    /// <summary><c>{arch}.tensor_data_layout</c>.</summary>
    public static string TensorDataLayout(string arch) => $"{arch}.tensor_data_layout";
    /// <summary><c>{arch}.expert_count</c>.</summary>
    public static string ExpertCount(string arch) => $"{arch}.expert_count";
    /// <summary><c>{arch}.expert_used_count</c>.</summary>
    public static string ExpertUsedCount(string arch) => $"{arch}.expert_used_count";
    /// <summary><c>{arch}.pooling_type</c> (embedding models).</summary>
    public static string PoolingType(string arch) => $"{arch}.pooling_type";
    /// <summary><c>{arch}.logit_scale</c>.</summary>
    public static string LogitScale(string arch) => $"{arch}.logit_scale";
    /// <summary><c>{arch}.attn_logit_softcapping</c>.</summary>
    public static string AttentionLogitSoftcapping(string arch) => $"{arch}.attn_logit_softcapping";
    /// <summary><c>{arch}.final_logit_softcapping</c>.</summary>
    public static string FinalLogitSoftcapping(string arch) => $"{arch}.final_logit_softcapping";
    /// <summary><c>{arch}.embedding_scale</c>.</summary>
    public static string EmbeddingScale(string arch) => $"{arch}.embedding_scale";
    /// <summary><c>{arch}.residual_scale</c>.</summary>
    public static string ResidualScale(string arch) => $"{arch}.residual_scale";

    /// <summary><c>{arch}.attention.head_count</c>.</summary>
    public static string AttentionHeadCount(string arch) => $"{arch}.attention.head_count";
    /// <summary><c>{arch}.attention.head_count_kv</c>: key/value heads (grouped-query attention); equals the head count when absent.</summary>
    public static string AttentionHeadCountKv(string arch) => $"{arch}.attention.head_count_kv";
    /// <summary><c>{arch}.attention.key_length</c>: per-head key width when not embedding/heads.</summary>
    public static string AttentionKeyLength(string arch) => $"{arch}.attention.key_length";
    /// <summary><c>{arch}.attention.value_length</c>: per-head value width when not embedding/heads.</summary>
    public static string AttentionValueLength(string arch) => $"{arch}.attention.value_length";
    /// <summary><c>{arch}.attention.layer_norm_epsilon</c>.</summary>
    public static string AttentionLayerNormEpsilon(string arch) => $"{arch}.attention.layer_norm_epsilon";
    /// <summary><c>{arch}.attention.layer_norm_rms_epsilon</c>.</summary>
    public static string AttentionLayerNormRmsEpsilon(string arch) => $"{arch}.attention.layer_norm_rms_epsilon";
    /// <summary><c>{arch}.attention.causal</c>.</summary>
    public static string AttentionCausal(string arch) => $"{arch}.attention.causal";
    /// <summary><c>{arch}.attention.max_alibi_bias</c>.</summary>
    public static string AttentionMaxAlibiBias(string arch) => $"{arch}.attention.max_alibi_bias";
    /// <summary><c>{arch}.attention.clamp_kqv</c>.</summary>
    public static string AttentionClampKqv(string arch) => $"{arch}.attention.clamp_kqv";
    /// <summary><c>{arch}.attention.sliding_window</c>.</summary>
    public static string AttentionSlidingWindow(string arch) => $"{arch}.attention.sliding_window";
    /// <summary><c>{arch}.attention.scale</c>.</summary>
    public static string AttentionScale(string arch) => $"{arch}.attention.scale";

    /// <summary><c>{arch}.rope.dimension_count</c>: how many dimensions of each head RoPE rotates.</summary>
    public static string RopeDimensionCount(string arch) => $"{arch}.rope.dimension_count";
    /// <summary><c>{arch}.rope.dimension_sections</c>.</summary>
    public static string RopeDimensionSections(string arch) => $"{arch}.rope.dimension_sections";
    /// <summary><c>{arch}.rope.freq_base</c>: theta (10000 when absent).</summary>
    public static string RopeFreqBase(string arch) => $"{arch}.rope.freq_base";
    /// <summary><c>{arch}.rope.scale_linear</c>: the older linear scaling key.</summary>
    public static string RopeScaleLinear(string arch) => $"{arch}.rope.scale_linear";
    /// <summary><c>{arch}.rope.scaling.type</c>: "none", "linear", "yarn", ...</summary>
    public static string RopeScalingType(string arch) => $"{arch}.rope.scaling.type";
    /// <summary><c>{arch}.rope.scaling.factor</c>.</summary>
    public static string RopeScalingFactor(string arch) => $"{arch}.rope.scaling.factor";
    /// <summary><c>{arch}.rope.scaling.attn_factor</c>.</summary>
    public static string RopeScalingAttnFactor(string arch) => $"{arch}.rope.scaling.attn_factor";
    /// <summary><c>{arch}.rope.scaling.original_context_length</c>.</summary>
    public static string RopeScalingOriginalContextLength(string arch) => $"{arch}.rope.scaling.original_context_length";
    /// <summary><c>{arch}.rope.scaling.finetuned</c>.</summary>
    public static string RopeScalingFinetuned(string arch) => $"{arch}.rope.scaling.finetuned";
    /// <summary><c>{arch}.rope.scaling.yarn_log_multiplier</c>.</summary>
    public static string RopeScalingYarnLogMultiplier(string arch) => $"{arch}.rope.scaling.yarn_log_multiplier";

    /// <summary><c>{arch}.ssm.conv_kernel</c>.</summary>
    public static string SsmConvKernel(string arch) => $"{arch}.ssm.conv_kernel";
    /// <summary><c>{arch}.ssm.inner_size</c>.</summary>
    public static string SsmInnerSize(string arch) => $"{arch}.ssm.inner_size";
    /// <summary><c>{arch}.ssm.state_size</c>.</summary>
    public static string SsmStateSize(string arch) => $"{arch}.ssm.state_size";
    /// <summary><c>{arch}.ssm.time_step_rank</c>.</summary>
    public static string SsmTimeStepRank(string arch) => $"{arch}.ssm.time_step_rank";
}
