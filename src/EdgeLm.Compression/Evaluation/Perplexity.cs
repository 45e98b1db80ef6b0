namespace EdgeLm.Compression.Evaluation;

/// <summary>The outcome of a perplexity run.</summary>
/// <param name="Value">exp(mean negative log-likelihood) over the scored tokens.</param>
/// <param name="Chunks">How many context-sized chunks were evaluated.</param>
/// <param name="ScoredTokens">How many next-token predictions were scored.</param>
/// <param name="MeanNegativeLogLikelihood">The mean negative log-likelihood in nats.</param>
public sealed record PerplexityResult(double Value, int Chunks, int ScoredTokens, double MeanNegativeLogLikelihood);

/// <summary>
/// Perplexity as llama.cpp's <c>llama-perplexity</c> measures it: the tokenized text (with BOS) is cut into
/// non-overlapping chunks of the context length; each chunk is evaluated from an empty cache with its first token
/// replaced by BOS (when the model adds one), and only the second half of each chunk is scored, so every scored
/// prediction has at least half a context of history.
/// </summary>
public static class Perplexity
{
    /// <summary>
    /// Evaluates the chunks of <paramref name="tokens"/>.
    /// </summary>
    /// <param name="tokens">The whole text's tokens, BOS included when the model adds one.</param>
    /// <param name="contextLength">Chunk length n_ctx.</param>
    /// <param name="maxChunks">At most this many chunks; null for all.</param>
    /// <param name="bosId">The BOS id that starts every chunk, or null when the model adds none.</param>
    /// <param name="evaluateChunk">Evaluates one chunk from an empty cache and returns its logits, [contextLength, vocab] row-major.</param>
    /// <exception cref="ArgumentException">The text has fewer than 2 x contextLength tokens.</exception>
    public static PerplexityResult Compute(IReadOnlyList<int> tokens, int contextLength, int? maxChunks, int? bosId,
        Func<int[], float[]> evaluateChunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 4);
        if (tokens.Count < 2 * contextLength)
            throw new ArgumentException($"Perplexity with a context of {contextLength} needs at least {2 * contextLength} tokens; the text has {tokens.Count}.", nameof(tokens));
        int chunks = tokens.Count / contextLength;
        if (maxChunks is { } m)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m, nameof(maxChunks));
            chunks = Math.Min(chunks, m);
        }
        int first = contextLength / 2;
        double nll = 0;
        int count = 0;
        var chunk = new int[contextLength];
        for (int c = 0; c < chunks; c++)
        {
            int start = c * contextLength;
            for (int i = 0; i < contextLength; i++)
                chunk[i] = tokens[start + i];
            if (bosId is { } bos)
                chunk[0] = bos;
            float[] logits = evaluateChunk(chunk);
            int vocab = logits.Length / contextLength;
            if (vocab * contextLength != logits.Length)
                throw new InvalidOperationException($"Chunk evaluation returned {logits.Length} logits, not a multiple of {contextLength}.");
            for (int j = first; j < contextLength - 1; j++)
            {
                int next = tokens[start + j + 1];
                nll -= LogSoftmaxAt(logits.AsSpan(j * vocab, vocab), next);
                count++;
            }
        }
        double mean = nll / count;
        return new PerplexityResult(Math.Exp(mean), chunks, count, mean);
    }

    /// <summary>log softmax(logits)[index], with the sum of exponentials taken in double.</summary>
    public static double LogSoftmaxAt(ReadOnlySpan<float> logits, int index)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits)
            max = MathF.Max(max, l);
        double sum = 0;
        foreach (float l in logits)
            sum += Math.Exp(l - max);
        return logits[index] - max - Math.Log(sum);
    }
}
