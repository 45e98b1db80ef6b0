namespace EdgeLm.Compression.Evaluation;

/// <summary>
/// How far a candidate model's next-token distributions are from a base model's over a text, in llama-perplexity's
/// <c>--kl-divergence</c> terms: KL(base || candidate) per scored position summarised by its mean (with standard
/// error) and quantiles, how often both models put the same token on top, and both perplexities.
/// </summary>
/// <param name="Mean">Mean KL divergence in nats.</param>
/// <param name="StandardError">Standard error of <paramref name="Mean"/>.</param>
/// <param name="Median">Median KL divergence.</param>
/// <param name="P90">90th percentile.</param>
/// <param name="P99">99th percentile.</param>
/// <param name="P999">99.9th percentile.</param>
/// <param name="Maximum">Largest KL divergence seen.</param>
/// <param name="TopTokenAgreement">Fraction of positions where both models' most likely token is the same.</param>
/// <param name="BasePerplexity">Perplexity of the base model over the scored positions.</param>
/// <param name="Perplexity">Perplexity of the candidate model over the scored positions.</param>
/// <param name="ScoredTokens">Positions compared.</param>
/// <param name="Chunks">Chunks evaluated.</param>
public sealed record KlDivergenceStatistics(double Mean, double StandardError, double Median, double P90, double P99, double P999,
    double Maximum, double TopTokenAgreement, double BasePerplexity, double Perplexity, int ScoredTokens, int Chunks)
{
    /// <summary>
    /// Evaluates both models over the chunks llama-perplexity uses (non-overlapping, BOS first, the second half of each
    /// chunk scored) and compares them position by position.
    /// </summary>
    /// <param name="tokens">The text's tokens, BOS included when the model adds one.</param>
    /// <param name="contextLength">Chunk length n_ctx.</param>
    /// <param name="maxChunks">At most this many chunks; null for all.</param>
    /// <param name="bosId">The BOS id that starts every chunk, or null when the model adds none.</param>
    /// <param name="evaluateBase">The reference model: one chunk from an empty cache to its logits, [contextLength, vocab].</param>
    /// <param name="evaluateCandidate">The model under test, the same way.</param>
    /// <exception cref="ArgumentException">The text has fewer than 2 x contextLength tokens, or the two models' vocabularies differ.</exception>
    public static KlDivergenceStatistics Compute(IReadOnlyList<int> tokens, int contextLength, int? maxChunks, int? bosId,
        Func<int[], float[]> evaluateBase, Func<int[], float[]> evaluateCandidate)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(evaluateBase);
        ArgumentNullException.ThrowIfNull(evaluateCandidate);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 4);
        if (tokens.Count < 2 * contextLength)
            throw new ArgumentException($"KL divergence with a context of {contextLength} needs at least {2 * contextLength} tokens; the text has {tokens.Count}.", nameof(tokens));
        int chunks = tokens.Count / contextLength;
        if (maxChunks is { } m)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m, nameof(maxChunks));
            chunks = Math.Min(chunks, m);
        }
        var kl = new List<double>();
        int same = 0;
        double nllBase = 0, nll = 0;
        var chunk = new int[contextLength];
        for (int c = 0; c < chunks; c++)
        {
            int start = c * contextLength;
            for (int i = 0; i < contextLength; i++)
                chunk[i] = tokens[start + i];
            if (bosId is { } bos)
                chunk[0] = bos;
            float[] a = evaluateBase((int[])chunk.Clone()), b = evaluateCandidate((int[])chunk.Clone());
            if (a.Length != b.Length || a.Length % contextLength != 0)
                throw new ArgumentException($"The models returned {a.Length} and {b.Length} logits for a {contextLength}-token chunk; their vocabularies must match.");
            int vocab = a.Length / contextLength;
            for (int j = contextLength / 2; j < contextLength - 1; j++)
            {
                var pa = a.AsSpan(j * vocab, vocab);
                var pb = b.AsSpan(j * vocab, vocab);
                kl.Add(KlDivergence.Compute(pa, pb));
                if (ArgMax(pa) == ArgMax(pb))
                    same++;
                int next = tokens[start + j + 1];
                nllBase -= Evaluation.Perplexity.LogSoftmaxAt(pa, next);
                nll -= Evaluation.Perplexity.LogSoftmaxAt(pb, next);
            }
        }
        int n = kl.Count;
        double mean = kl.Average();
        double variance = n > 1 ? kl.Sum(v => (v - mean) * (v - mean)) / (n - 1) : 0;
        var sorted = kl.Order().ToArray();
        return new KlDivergenceStatistics(mean, Math.Sqrt(variance / n), Quantile(sorted, 0.5), Quantile(sorted, 0.9), Quantile(sorted, 0.99),
            Quantile(sorted, 0.999), sorted[^1], (double)same / n, Math.Exp(nllBase / n), Math.Exp(nll / n), n, chunks);
    }

    /// <summary>The value at rank round(q (n - 1)) of sorted values.</summary>
    private static double Quantile(double[] sorted, double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];

    /// <summary>Index of the largest logit, the lowest index among ties.</summary>
    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
                best = i;
        }
        return best;
    }
}
