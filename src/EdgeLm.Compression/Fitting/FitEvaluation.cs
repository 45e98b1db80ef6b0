using EdgeLm.Compression.Evaluation;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Compression.Fitting;

/// <summary>How far a fitted (or any quantized) copy's predictions are from its original's over a text, as <c>edgelm kld</c> reports it.</summary>
public static class FitEvaluation
{
    /// <summary>
    /// KL divergence statistics and both perplexities of <paramref name="candidate"/> against <paramref name="original"/>
    /// over <paramref name="text"/>, in chunks of <paramref name="contextLength"/> (llama-perplexity's way).
    /// </summary>
    /// <exception cref="ArgumentException">The text is shorter than two chunks, or the vocabularies differ.</exception>
    public static KlDivergenceStatistics Compare(LanguageModel original, LanguageModel candidate, string text, int contextLength, int? maxChunks, int? threads)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(text);
        int V = original.HyperParameters.VocabularySize;
        if (candidate.HyperParameters.VocabularySize != V)
            throw new ArgumentException($"The models' vocabularies differ ({V} and {candidate.HyperParameters.VocabularySize} tokens).");
        int[] tokens = original.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
        var a = original.CreateSession(new SessionOptions { Threads = threads, ContextLength = contextLength });
        var b = candidate.CreateSession(new SessionOptions { Threads = threads, ContextLength = contextLength });
        float[] Evaluate(InferenceSession s, int[] chunk)
        {
            var logits = new float[contextLength * V];
            s.Reset();
            s.EvaluateAll(chunk, logits);
            return logits;
        }
        return KlDivergenceStatistics.Compute(tokens, contextLength, maxChunks, original.Tokenizer.AddBos ? original.Tokenizer.BosId : null,
            chunk => Evaluate(a, chunk), chunk => Evaluate(b, chunk));
    }
}
