using EdgeLm.Gguf;

namespace EdgeLm.Runtime.Architectures;

/// <summary>
/// The <c>llama</c> architecture (Llama 2 and 3, Mistral, SmolLM, TinyLlama): no attention biases, RoPE over
/// adjacent dimension pairs (llama.cpp's converter permutes Q and K into that order), optional Llama 3 RoPE scaling
/// through the <c>rope_freqs</c> tensor, and the output matrix tied to the embedding when <c>output.weight</c> is absent.
/// </summary>
public static class Llama
{
    /// <summary>The <c>general.architecture</c> value.</summary>
    public const string Name = "llama";

    /// <summary>Reads the hyper-parameters and weights of a llama model.</summary>
    public static Transformer Load(GgufFile file, int vocabularySize)
    {
        var p = TransformerHyperParameters.FromGguf(file, RopeStyle.Normal, vocabularySize);
        return new Transformer(p, TransformerWeights.Load(file, p, requireAttentionBiases: false));
    }
}
