using EdgeLm.Gguf;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Runtime.Architectures;

/// <summary>
/// The weights of one transformer block. Matrices stay in the memory-mapped file, row-major [out, in] (y = W x);
/// norm vectors and biases are small and are read into float arrays.
/// </summary>
public sealed class BlockWeights
{
    /// <summary>RMSNorm scale before attention, [EmbeddingLength].</summary>
    public required float[] AttentionNorm { get; init; }

    /// <summary>Query projection, [QueryLength, EmbeddingLength].</summary>
    public required WeightMatrix Query { get; init; }

    /// <summary>Key projection, [KeyValueLength, EmbeddingLength].</summary>
    public required WeightMatrix Key { get; init; }

    /// <summary>Value projection, [KeyValueLength, EmbeddingLength].</summary>
    public required WeightMatrix Value { get; init; }

    /// <summary>Query bias [QueryLength] (Qwen2), or null.</summary>
    public float[]? QueryBias { get; init; }

    /// <summary>Key bias [KeyValueLength] (Qwen2), or null.</summary>
    public float[]? KeyBias { get; init; }

    /// <summary>Value bias [KeyValueLength] (Qwen2), or null.</summary>
    public float[]? ValueBias { get; init; }

    /// <summary>Attention output projection, [EmbeddingLength, QueryLength].</summary>
    public required WeightMatrix AttentionOutput { get; init; }

    /// <summary>RMSNorm scale before the feed-forward network, [EmbeddingLength].</summary>
    public required float[] FeedForwardNorm { get; init; }

    /// <summary>Gate projection, [FeedForwardLength, EmbeddingLength].</summary>
    public required WeightMatrix Gate { get; init; }

    /// <summary>Up projection, [FeedForwardLength, EmbeddingLength].</summary>
    public required WeightMatrix Up { get; init; }

    /// <summary>Down projection, [EmbeddingLength, FeedForwardLength].</summary>
    public required WeightMatrix Down { get; init; }
}

/// <summary>
/// All weights of a Llama-family model, found through the tensor-name table and checked against the
/// hyper-parameters. GGUF lists dimensions innermost first, so a tensor with dims (in, out) is our [out, in].
/// </summary>
public sealed class TransformerWeights
{
    /// <summary>Token embedding table, [VocabularySize, EmbeddingLength].</summary>
    public required WeightMatrix TokenEmbedding { get; init; }

    /// <summary>The blocks, in order.</summary>
    public required BlockWeights[] Blocks { get; init; }

    /// <summary>Final RMSNorm scale, [EmbeddingLength].</summary>
    public required float[] OutputNorm { get; init; }

    /// <summary>Output projection to logits, [VocabularySize, EmbeddingLength]; the token embedding when tied.</summary>
    public required WeightMatrix Output { get; init; }

    /// <summary>Per-frequency RoPE divisors [RopeDimensionCount / 2] (Llama 3 scaling), or empty.</summary>
    public required float[] RopeFrequencyFactors { get; init; }

    /// <summary>Finds and checks every tensor the model needs.</summary>
    /// <param name="file">The open model file; the returned matrices point into its mapping.</param>
    /// <param name="p">The hyper-parameters the shapes must agree with.</param>
    /// <param name="requireAttentionBiases">True for architectures whose Q/K/V projections carry biases (Qwen2).</param>
    public static TransformerWeights Load(GgufFile file, TransformerHyperParameters p, bool requireAttentionBiases)
    {
        int E = p.EmbeddingLength, F = p.FeedForwardLength, V = p.VocabularySize;
        var blocks = new BlockWeights[p.BlockCount];
        for (int i = 0; i < p.BlockCount; i++)
        {
            blocks[i] = new BlockWeights
            {
                AttentionNorm = Vector(file, TensorNames.Weight(TensorNames.AttentionNorm(i)), E),
                Query = Matrix(file, TensorNames.Weight(TensorNames.AttentionQuery(i)), p.QueryLength, E),
                Key = Matrix(file, TensorNames.Weight(TensorNames.AttentionKey(i)), p.KeyValueLength, E),
                Value = Matrix(file, TensorNames.Weight(TensorNames.AttentionValue(i)), p.KeyValueLength, E),
                QueryBias = Bias(file, TensorNames.AttentionQuery(i), p.QueryLength, requireAttentionBiases),
                KeyBias = Bias(file, TensorNames.AttentionKey(i), p.KeyValueLength, requireAttentionBiases),
                ValueBias = Bias(file, TensorNames.AttentionValue(i), p.KeyValueLength, requireAttentionBiases),
                AttentionOutput = Matrix(file, TensorNames.Weight(TensorNames.AttentionOutput(i)), E, p.QueryLength),
                FeedForwardNorm = Vector(file, TensorNames.Weight(TensorNames.FeedForwardNorm(i)), E),
                Gate = Matrix(file, TensorNames.Weight(TensorNames.FeedForwardGate(i)), F, E),
                Up = Matrix(file, TensorNames.Weight(TensorNames.FeedForwardUp(i)), F, E),
                Down = Matrix(file, TensorNames.Weight(TensorNames.FeedForwardDown(i)), E, F),
            };
        }
        var embedding = Matrix(file, TensorNames.Weight(TensorNames.TokenEmbedding), V, E);
        string outputName = TensorNames.Weight(TensorNames.Output);
        var ropeFreqs = file.FindTensor(TensorNames.Weight(TensorNames.RopeFrequencies)) is null
            ? []
            : Vector(file, TensorNames.Weight(TensorNames.RopeFrequencies), p.RopeDimensionCount / 2);
        return new TransformerWeights
        {
            TokenEmbedding = embedding,
            Blocks = blocks,
            OutputNorm = Vector(file, TensorNames.Weight(TensorNames.OutputNorm), E),
            Output = file.FindTensor(outputName) is null ? embedding : Matrix(file, outputName, V, E),
            RopeFrequencyFactors = ropeFreqs,
        };
    }

    private static WeightMatrix Matrix(GgufFile file, string name, int rows, int columns)
    {
        var t = file.GetTensor(name);
        if (t.Dimensions.Length != 2 || t.Dimensions[0] != columns || t.Dimensions[1] != rows)
            throw new ModelFormatException($"Tensor '{name}' has GGUF shape ({string.Join(", ", t.Dimensions)}); expected ({columns}, {rows}), i.e. [{rows} out, {columns} in].");
        if (!VecDot.IsSupported(t.Type))
            throw new ModelFormatException($"Tensor '{name}' has type {t.Type}, which EdgeLm cannot multiply yet.");
        return WeightMatrix.FromRegion(file.Region, t.FileOffset, t.Type, rows, columns);
    }

    private static float[] Vector(GgufFile file, string name, int length)
    {
        var t = file.GetTensor(name);
        if (t.ElementCount != length || t.Dimensions.Length != 1)
            throw new ModelFormatException($"Tensor '{name}' has GGUF shape ({string.Join(", ", t.Dimensions)}); expected ({length}).");
        if (t.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
            throw new ModelFormatException($"Tensor '{name}' has type {t.Type}; norm and bias vectors must be F32, F16 or BF16.");
        var values = new float[length];
        Dequantize.Row(t.Type, file.GetTensorBytes(t), values);
        return values;
    }

    private static float[]? Bias(GgufFile file, string baseName, int length, bool required)
    {
        string name = TensorNames.Bias(baseName);
        if (file.FindTensor(name) is null)
            return required ? throw new ModelFormatException($"The model has no '{name}' tensor, which its architecture requires.") : null;
        return Vector(file, name, length);
    }
}
