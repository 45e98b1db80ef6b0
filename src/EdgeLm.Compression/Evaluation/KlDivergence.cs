namespace EdgeLm.Compression.Evaluation;

/// <summary>Kullback-Leibler divergence between next-token distributions given as logits.</summary>
public static class KlDivergence
{
    /// <summary>
    /// KL(P || Q) in nats, where P = softmax(<paramref name="reference"/>) and Q = softmax(<paramref name="candidate"/>):
    /// how much information is lost when Q stands in for P. Computed in double.
    /// </summary>
    public static double Compute(ReadOnlySpan<float> reference, ReadOnlySpan<float> candidate)
    {
        if (reference.Length != candidate.Length || reference.IsEmpty)
            throw new ArgumentException($"Both distributions need the same non-zero length ({reference.Length} vs {candidate.Length}).");
        double logZp = LogSumExp(reference), logZq = LogSumExp(candidate);
        double kl = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double logP = reference[i] - logZp;
            double logQ = candidate[i] - logZq;
            kl += Math.Exp(logP) * (logP - logQ);
        }
        return Math.Max(kl, 0);
    }

    private static double LogSumExp(ReadOnlySpan<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x)
            max = MathF.Max(max, v);
        double sum = 0;
        foreach (float v in x)
            sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }
}
