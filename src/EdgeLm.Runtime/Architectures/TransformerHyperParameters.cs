using EdgeLm.Gguf;

namespace EdgeLm.Runtime.Architectures;

/// <summary>How rotary position embedding pairs up the dimensions of a head.</summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (2i, 2i+1): Llama as stored by llama.cpp's converter.</summary>
    Normal,

    /// <summary>Split halves (i, i + d/2): GPT-NeoX, Qwen2.</summary>
    Neox,
}

/// <summary>
/// The shape of a decoder-only transformer of the Llama family, filled from the GGUF keys of its architecture
/// (<c>{arch}.embedding_length</c>, ...). Every value is checked once here so the forward pass can trust it.
/// </summary>
public sealed record TransformerHyperParameters
{
    /// <summary>The <c>general.architecture</c> value, e.g. "llama" or "qwen2".</summary>
    public required string Architecture { get; init; }

    /// <summary>Tokens in the vocabulary: rows of the embedding and of the output matrix.</summary>
    public required int VocabularySize { get; init; }

    /// <summary>The context length the model was trained for (<c>{arch}.context_length</c>).</summary>
    public required int ContextLength { get; init; }

    /// <summary>Width of the residual stream (d_model).</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary>Number of transformer blocks.</summary>
    public required int BlockCount { get; init; }

    /// <summary>Hidden width of the feed-forward network.</summary>
    public required int FeedForwardLength { get; init; }

    /// <summary>Query heads per block.</summary>
    public required int HeadCount { get; init; }

    /// <summary>Key/value heads per block; fewer than <see cref="HeadCount"/> means grouped-query attention.</summary>
    public required int KeyValueHeadCount { get; init; }

    /// <summary>Width of one attention head (keys, queries and values alike).</summary>
    public required int HeadDimension { get; init; }

    /// <summary>Epsilon inside RMSNorm.</summary>
    public required float RmsNormEpsilon { get; init; }

    /// <summary>RoPE base frequency theta.</summary>
    public required float RopeFrequencyBase { get; init; }

    /// <summary>RoPE position scale: 1 / linear scaling factor.</summary>
    public required float RopeFrequencyScale { get; init; }

    /// <summary>How many dimensions of each head are rotated.</summary>
    public required int RopeDimensionCount { get; init; }

    /// <summary>Dimension pairing of RoPE.</summary>
    public required RopeStyle RopeStyle { get; init; }

    /// <summary>Width of all query heads together.</summary>
    public int QueryLength => HeadCount * HeadDimension;

    /// <summary>Width of all key (or value) heads together.</summary>
    public int KeyValueLength => KeyValueHeadCount * HeadDimension;

    /// <summary>Query heads sharing one key/value head.</summary>
    public int GroupSize => HeadCount / KeyValueHeadCount;

    /// <summary>Reads and checks the hyper-parameters of <paramref name="file"/>'s architecture.</summary>
    /// <exception cref="ModelFormatException">A key is missing or a value is out of range.</exception>
    public static TransformerHyperParameters FromGguf(GgufFile file, RopeStyle ropeStyle, int vocabularySize)
    {
        string arch = file.GetString(GgufKeys.GeneralArchitecture);
        int Required(string key) => CheckPositive(key, file.GetIntegerOrNull(key) ?? throw new ModelFormatException($"The model has no '{key}' key."));
        int embedding = Required(GgufKeys.EmbeddingLength(arch));
        int heads = Required(GgufKeys.AttentionHeadCount(arch));
        int kvHeads = CheckPositive(GgufKeys.AttentionHeadCountKv(arch), file.GetIntegerOrNull(GgufKeys.AttentionHeadCountKv(arch)) ?? heads);
        if (heads % kvHeads != 0)
            throw new ModelFormatException($"{heads} query heads cannot be shared evenly by {kvHeads} key/value heads.");
        if (embedding % heads != 0 && file.GetIntegerOrNull(GgufKeys.AttentionKeyLength(arch)) is null)
            throw new ModelFormatException($"Embedding length {embedding} is not a multiple of the head count {heads}.");
        int headDim = CheckPositive(GgufKeys.AttentionKeyLength(arch), file.GetIntegerOrNull(GgufKeys.AttentionKeyLength(arch)) ?? embedding / heads);
        int valueDim = CheckPositive(GgufKeys.AttentionValueLength(arch), file.GetIntegerOrNull(GgufKeys.AttentionValueLength(arch)) ?? headDim);
        if (valueDim != headDim)
            throw new ModelFormatException($"Key width {headDim} differs from value width {valueDim}; EdgeLm supports equal widths only.");
        int ropeDims = CheckPositive(GgufKeys.RopeDimensionCount(arch), file.GetIntegerOrNull(GgufKeys.RopeDimensionCount(arch)) ?? headDim);
        if (ropeDims > headDim || ropeDims % 2 != 0)
            throw new ModelFormatException($"RoPE dimension count {ropeDims} must be even and at most the head width {headDim}.");

        float scale = 1f;
        string? scalingType = file.GetStringOrNull(GgufKeys.RopeScalingType(arch));
        double? factor = file.GetNumberOrNull(GgufKeys.RopeScalingFactor(arch)) ?? file.GetNumberOrNull(GgufKeys.RopeScaleLinear(arch));
        switch (scalingType)
        {
            case null or "none" or "linear":
                if (factor is { } f && f != 0 && f != 1)
                    scale = (float)(1.0 / f);
                break;
            case "llama3":
                // Llama 3 scaling arrives as per-frequency factors in the rope_freqs tensor; nothing to do here.
                break;
            default:
                throw new ModelFormatException($"RoPE scaling type '{scalingType}' is not supported (supported: none, linear, llama3).");
        }

        float epsilon = (float)(file.GetNumberOrNull(GgufKeys.AttentionLayerNormRmsEpsilon(arch)) ?? 1e-5);
        if (!(epsilon > 0) || float.IsInfinity(epsilon))
            throw new ModelFormatException($"RMSNorm epsilon {epsilon} must be a positive number.");
        float freqBase = (float)(file.GetNumberOrNull(GgufKeys.RopeFreqBase(arch)) ?? 10000.0);
        if (!(freqBase > 0) || float.IsInfinity(freqBase))
            throw new ModelFormatException($"RoPE base frequency {freqBase} must be a positive number.");

        return new TransformerHyperParameters
        {
            Architecture = arch,
            VocabularySize = CheckPositive("vocabulary size", vocabularySize),
            ContextLength = Required(GgufKeys.ContextLength(arch)),
            EmbeddingLength = embedding,
            BlockCount = Required(GgufKeys.BlockCount(arch)),
            FeedForwardLength = Required(GgufKeys.FeedForwardLength(arch)),
            HeadCount = heads,
            KeyValueHeadCount = kvHeads,
            HeadDimension = headDim,
            RmsNormEpsilon = epsilon,
            RopeFrequencyBase = freqBase,
            RopeFrequencyScale = scale,
            RopeDimensionCount = ropeDims,
            RopeStyle = ropeStyle,
        };
    }

    private static int CheckPositive(string key, long value) =>
        value is > 0 and <= 1 << 24 ? (int)value : throw new ModelFormatException($"'{key}' = {value} is out of range (1 to {1 << 24}).");
}
