using System.Globalization;
using System.Text.RegularExpressions;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Compression.Quantization;

/// <summary>What will happen to one tensor of the source file.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="SourceType">Its type in the source file.</param>
/// <param name="TargetType">Its type in the output.</param>
/// <param name="Dimensions">GGUF dimensions, [0] the row length.</param>
/// <param name="FellBack">The mix asked for a type whose block does not divide the rows, and a compatible one was taken (llama.cpp's fallback).</param>
/// <param name="RequiresImportance">llama.cpp refuses this type for this tensor without an importance matrix.</param>
public sealed record TensorPlan(string Name, GgmlType SourceType, GgmlType TargetType, long[] Dimensions, bool FellBack, bool RequiresImportance)
{
    /// <summary>True when the bytes change (the target type differs from the source's); otherwise the tensor is copied.</summary>
    public bool Converts => SourceType != TargetType;

    /// <summary>Elements in the tensor.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (a, d) => a * d);
}

/// <summary>A per-tensor type rule given on the command line: tensors whose name matches <paramref name="Pattern"/> take <paramref name="Type"/>.</summary>
/// <param name="Pattern">A regular expression searched in the tensor name (llama-quantize's --tensor-type NAME=TYPE).</param>
/// <param name="Type">The tensor type to use.</param>
public sealed record TensorTypeOverride(string Pattern, GgmlType Type);

/// <summary>
/// Chooses the type of every tensor the way llama.cpp's <c>llama_tensor_get_type</c> does for a file type: which
/// tensors are quantized at all (2-D and larger weights, not norms), which take more bits than the mix's base type
/// (output and attn_v/ffn_down by layer), and the fallbacks for rows the chosen block does not divide.
/// </summary>
public static class TensorTypePlanner
{
    private enum Category { TokenEmbedding, AttentionQ, AttentionV, AttentionK, AttentionQkv, AttentionKvB, AttentionOutput, FeedForwardUp, FeedForwardGate, FeedForwardDown, Output, Other }

    /// <summary>The model facts llama.cpp's rules look at.</summary>
    private sealed record ModelFacts(string Architecture, int LayerCount, int HeadCount, int KeyValueHeadCount, int ExpertCount)
    {
        public int GroupSize => KeyValueHeadCount == 0 ? 0 : HeadCount / KeyValueHeadCount;

        // llama.cpp's LLM_TYPE_70B: 80 Llama layers with grouped-query attention.
        public bool Is70B => Architecture == "llama" && LayerCount == 80 && HeadCount != KeyValueHeadCount;
    }

    /// <summary>Counters llama.cpp keeps while it walks the tensors in order.</summary>
    private sealed class WalkState
    {
        public int AttentionVCount, AttentionVIndex, FeedForwardDownIndex, FeedForwardGateIndex, FeedForwardUpIndex;
        public bool TiedEmbeddings = true;
    }

    /// <summary>
    /// The tensors of <paramref name="source"/> in llama.cpp's order (tensors outside blocks first, then block by block,
    /// by name within each), each with the type it takes in a <paramref name="options"/>.FileType file.
    /// </summary>
    /// <exception cref="QuantizationException">A tensor's rows fit neither its type nor a fallback (llama.cpp refuses too), or an override names a bad pattern.</exception>
    public static IReadOnlyList<TensorPlan> Plan(GgufFile source, QuantizeOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        var facts = ReadFacts(source);
        var tensors = source.Tensors.OrderBy(t => t, LlamaTensorOrder.Instance).ToList();
        var overrides = CompileOverrides(options.TensorTypes);
        var state = new WalkState();
        foreach (var t in tensors)
        {
            var c = CategoryOf(t.Name);
            if (c is Category.AttentionV or Category.AttentionQkv or Category.AttentionKvB)
                state.AttentionVCount++;
            if (c == Category.Output)
                state.TiedEmbeddings = false;
        }

        var defaultType = FileTypes.DefaultTensorType(options.FileType);
        var plans = new List<TensorPlan>(tensors.Count);
        foreach (var t in tensors)
        {
            var dims = t.Dimensions;
            if (!AllowsQuantization(t.Name, dims, options.QuantizeOutputTensor))
            {
                plans.Add(new TensorPlan(t.Name, t.Type, t.Type, dims, false, false));
                continue;
            }
            var target = defaultType;
            bool fellBack = false;
            if (FileTypes.IsQuantized(defaultType))
            {
                bool manual = false;
                foreach (var (pattern, type) in overrides)
                {
                    if (pattern.IsMatch(t.Name))
                    {
                        target = type;
                        manual = true;
                        break;
                    }
                }
                if (!manual && !options.Pure)
                    target = MixType(state, facts, options, target, t.Name, dims[0]);
                (target, fellBack) = Fallback(t.Name, dims[0], target);
            }
            bool requires = target == GgmlType.Q2_K && options.FileType == FileType.Q2_K_S
                && t.Name is not ("token_embd.weight" or "per_layer_token_embd.weight" or "output.weight");
            plans.Add(new TensorPlan(t.Name, t.Type, target, dims, fellBack, requires));
        }
        return plans;
    }

    private static ModelFacts ReadFacts(GgufFile source)
    {
        string arch = source.GetStringOrNull(GgufKeys.GeneralArchitecture) ?? "";
        int First(string key)
        {
            if (!source.TryGetValue(key, out var v))
                return 0;
            if (v.Type == GgufValueType.Array)
            {
                var a = v.AsArray();
                return a.Count == 0 ? 0 : (int)a[0].ToInt64();
            }
            return (int)v.ToInt64();
        }
        int layers = First(GgufKeys.BlockCount(arch));
        int heads = First(GgufKeys.AttentionHeadCount(arch));
        int kvKey = First(GgufKeys.AttentionHeadCountKv(arch));
        return new ModelFacts(arch, layers, heads, source.TryGetValue(GgufKeys.AttentionHeadCountKv(arch), out _) ? kvKey : heads,
            First(GgufKeys.ExpertCount(arch)));
    }

    private static List<(Regex Pattern, GgmlType Type)> CompileOverrides(IReadOnlyList<TensorTypeOverride> overrides)
    {
        var list = new List<(Regex, GgmlType)>(overrides.Count);
        foreach (var o in overrides)
        {
            try
            {
                list.Add((new Regex(o.Pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), o.Type));
            }
            catch (ArgumentException e)
            {
                throw new QuantizationException($"Tensor type pattern '{o.Pattern}' is not a valid regular expression: {e.Message}");
            }
        }
        return list;
    }

    /// <summary>llama.cpp's <c>tensor_allows_quantization</c>: weights of rank 2 or more that are not norms and not one of the small special tensors.</summary>
    internal static bool AllowsQuantization(string name, long[] dims, bool quantizeOutput)
    {
        // ggml_n_dims ignores trailing dimensions of 1.
        int rank = dims.Length;
        while (rank > 1 && dims[rank - 1] == 1)
            rank--;
        if (rank < 2 || !name.EndsWith("weight", StringComparison.Ordinal))
            return false;
        if (!quantizeOutput && name == "output.weight")
            return false;
        string[] excluded =
        [
            "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
            "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
            "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight",
            "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
            "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
            "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
            ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
        ];
        foreach (var e in excluded)
        {
            if (name.Contains(e, StringComparison.Ordinal))
                return false;
        }
        return name is not ("position_embd.weight" or "token_types.weight");
    }

    private static Category CategoryOf(string name)
    {
        if (name == "output.weight") return Category.Output;
        if (name is "token_embd.weight" or "per_layer_token_embd.weight") return Category.TokenEmbedding;
        if (name.Contains("attn_qkv.weight", StringComparison.Ordinal)) return Category.AttentionQkv;
        if (name.Contains("attn_kv_b.weight", StringComparison.Ordinal)) return Category.AttentionKvB;
        if (name.Contains("attn_v.weight", StringComparison.Ordinal)) return Category.AttentionV;
        if (name.Contains("attn_k.weight", StringComparison.Ordinal)) return Category.AttentionK;
        if (name.Contains("attn_q.weight", StringComparison.Ordinal)) return Category.AttentionQ;
        if (name.Contains("attn_output.weight", StringComparison.Ordinal)) return Category.AttentionOutput;
        if (name.Contains("ffn_up", StringComparison.Ordinal)) return Category.FeedForwardUp;
        if (name.Contains("ffn_gate", StringComparison.Ordinal)) return Category.FeedForwardGate;
        if (name.Contains("ffn_down", StringComparison.Ordinal)) return Category.FeedForwardDown;
        return Category.Other;
    }

    // More bits for the first and last eighth of the layers and every third layer between (llama.cpp's use_more_bits).
    private static bool UseMoreBits(int layer, int layers) => layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    /// <summary>The layer a per-layer tensor belongs to: its position among its kind, or (with experts) its name.</summary>
    private static int LayerOf(int counter, ModelFacts facts, string name)
    {
        if (facts.ExpertCount <= 1)
            return counter;
        var m = Regex.Match(name, @"^blk\.(\d+)\.");
        if (!m.Success || !int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int layer))
            throw new QuantizationException($"Cannot tell the layer of tensor {name}.");
        if (layer >= facts.LayerCount)
            throw new QuantizationException($"Tensor {name} is in layer {layer}, but the model has {facts.LayerCount}.");
        return layer;
    }

    /// <summary>llama.cpp's <c>llama_tensor_get_type_impl</c> for the file types EdgeLm writes.</summary>
    private static GgmlType MixType(WalkState s, ModelFacts facts, QuantizeOptions options, GgmlType type, string name, long rowLength)
    {
        var ftype = options.FileType;
        var category = CategoryOf(name);
        int n = facts.LayerCount;
        if (category == Category.Output || (s.TiedEmbeddings && category == Category.TokenEmbedding))
        {
            int block = GgmlTypeInfo.BlockSize(type);
            if (facts.Architecture == "falcon" || rowLength % block != 0)
                return GgmlType.Q8_0;
            return type != GgmlType.Q8_0 ? GgmlType.Q6_K : type;
        }
        if (category == Category.TokenEmbedding)
            return type;
        if (category is Category.AttentionV or Category.AttentionQkv or Category.AttentionKvB)
        {
            int gqa = facts.GroupSize;
            if (ftype == FileType.Q2_K)
                type = gqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (ftype == FileType.Q2_K_S && gqa >= 4)
                type = GgmlType.Q4_K;
            else if (ftype == FileType.Q3_K_M)
                type = s.AttentionVIndex < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            else if (ftype == FileType.Q3_K_L)
                type = GgmlType.Q5_K;
            else if (ftype is FileType.Q4_K_M or FileType.Q5_K_M && UseMoreBits(s.AttentionVIndex, s.AttentionVCount))
                type = GgmlType.Q6_K;
            else if (ftype == FileType.Q4_K_S && s.AttentionVIndex < 4)
                type = GgmlType.Q5_K;
            if (facts.Is70B && type is GgmlType.Q3_K or GgmlType.Q4_K)
                type = GgmlType.Q5_K;
            if (facts.ExpertCount == 8)
                type = GgmlType.Q8_0;
            s.AttentionVIndex++;
            return type;
        }
        if (category == Category.AttentionK)
            return facts.ExpertCount == 8 ? GgmlType.Q8_0 : type;
        if (category == Category.AttentionQ)
            return type;
        if (category == Category.FeedForwardDown)
        {
            int layer = LayerOf(s.FeedForwardDownIndex, facts, name);
            bool falcon = facts.Architecture == "falcon";
            if (ftype == FileType.Q2_K)
                type = GgmlType.Q3_K;
            else if (ftype == FileType.Q2_K_S)
            {
                if (layer < n / 8) type = GgmlType.Q4_K;
            }
            else if (ftype == FileType.Q3_K_M)
                type = layer < n / 16 ? GgmlType.Q5_K : !falcon || UseMoreBits(layer, n) ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (ftype == FileType.Q3_K_L)
                type = falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
            else if (ftype == FileType.Q4_K_M)
            {
                if (falcon)
                    type = layer < n / 16 ? GgmlType.Q6_K : UseMoreBits(layer, n) ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (UseMoreBits(layer, n))
                    type = GgmlType.Q6_K;
            }
            else if (ftype == FileType.Q5_K_M && UseMoreBits(layer, n))
                type = GgmlType.Q6_K;
            else if (ftype == FileType.Q4_K_S && !falcon && layer < n / 8)
                type = GgmlType.Q5_K;
            else if (ftype is FileType.Q4_0 or FileType.Q5_0 && options.Importance is not null && layer < n / 8)
                // With an importance matrix, llama.cpp guards the first ffn_down layers of Q4_0/Q5_0 with the _1 types.
                type = ftype == FileType.Q4_0 ? GgmlType.Q4_1 : GgmlType.Q5_1;
            s.FeedForwardDownIndex++;
            return type;
        }
        if (category == Category.AttentionOutput)
        {
            if (facts.Architecture != "falcon")
            {
                if (facts.ExpertCount == 8)
                {
                    if (ftype is FileType.Q2_K or FileType.Q3_K_S or FileType.Q3_K_M or FileType.Q4_K_S or FileType.Q4_K_M)
                        type = GgmlType.Q5_K;
                }
                else if (ftype == FileType.Q2_K) type = GgmlType.Q3_K;
                else if (ftype == FileType.Q3_K_M) type = GgmlType.Q4_K;
                else if (ftype == FileType.Q3_K_L) type = GgmlType.Q5_K;
            }
            else if (ftype == FileType.Q3_K_L)
                type = GgmlType.Q4_K;
            return type;
        }
        if (category == Category.AttentionQkv)
            return type;
        if (category == Category.FeedForwardGate)
        {
            _ = LayerOf(s.FeedForwardGateIndex, facts, name);
            s.FeedForwardGateIndex++;
            return type;
        }
        if (category == Category.FeedForwardUp)
        {
            _ = LayerOf(s.FeedForwardUpIndex, facts, name);
            s.FeedForwardUpIndex++;
            return type;
        }
        return type;
    }

    /// <summary>llama.cpp's <c>tensor_type_fallback</c>: a compatible type when the block does not divide the rows.</summary>
    private static (GgmlType Type, bool FellBack) Fallback(string name, long rowLength, GgmlType type)
    {
        if (rowLength % GgmlTypeInfo.BlockSize(type) == 0)
            return (type, false);
        var fallback = type switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.TQ1_0 or GgmlType.TQ2_0 => GgmlType.Q4_0,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => throw new QuantizationException(
                $"Tensor {name} has rows of {rowLength} weights, which {type} blocks of {GgmlTypeInfo.BlockSize(type)} do not divide, " +
                $"and {type} has no fallback type (as in llama.cpp); choose a k-quant mix or pass --tensor-type to keep it in another type."),
        };
        if (rowLength % GgmlTypeInfo.BlockSize(fallback) != 0)
            fallback = GgmlType.F16;
        return (fallback, true);
    }
}
