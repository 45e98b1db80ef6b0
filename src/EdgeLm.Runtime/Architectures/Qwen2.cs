using EdgeLm.Gguf;

namespace EdgeLm.Runtime.Architectures;

/// <summary>
/// The <c>qwen2</c> architecture: the Llama block with biases on the query, key and value projections and RoPE over
/// split halves of each head (NeoX style).
/// </summary>
public static class Qwen2
{
    /// <summary>The <c>general.architecture</c> value.</summary>
    public const string Name = "qwen2";

    /// <summary>Reads the hyper-parameters and weights of a qwen2 model.</summary>
    public static Transformer Load(GgufFile file, int vocabularySize)
    {
        var p = TransformerHyperParameters.FromGguf(file, RopeStyle.Neox, vocabularySize);
        return new Transformer(p, TransformerWeights.Load(file, p, requireAttentionBiases: true));
    }
}
