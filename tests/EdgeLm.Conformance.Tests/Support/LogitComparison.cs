namespace EdgeLm.Conformance.Tests.Support;

/// <summary>Compares logit rows as distributions: softmax, KL divergence, argmax agreement.</summary>
public static class LogitComparison
{
    /// <summary>KL(P || Q) in nats between the softmax of two logit rows (the product's own implementation).</summary>
    public static double KlDivergence(ReadOnlySpan<float> reference, ReadOnlySpan<float> candidate) =>
        EdgeLm.Compression.Evaluation.KlDivergence.Compute(reference, candidate);

    /// <summary>Mean of <see cref="KlDivergence"/> over matching rows of two [positions][vocab] tables.</summary>
    public static double MeanKlDivergence(IReadOnlyList<float[]> reference, IReadOnlyList<float[]> candidate)
    {
        if (reference.Count != candidate.Count || reference.Count == 0)
            throw new ArgumentException($"Tables of {reference.Count} and {candidate.Count} rows cannot be compared.");
        double sum = 0;
        for (var t = 0; t < reference.Count; t++)
            sum += KlDivergence(reference[t], candidate[t]);
        return sum / reference.Count;
    }

    /// <summary>log(sum_i exp(x_i)), shifted by the maximum so large logits do not overflow.</summary>
    public static double LogSumExp(ReadOnlySpan<float> x)
    {
        double max = double.NegativeInfinity;
        foreach (var v in x)
            max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in x)
            sum += Math.Exp(v - max);
        return max + Math.Log(sum);
    }

    /// <summary>Index of the largest value, the first one on ties (as llama.cpp's greedy sampler).</summary>
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty)
            throw new ArgumentException("ArgMax of an empty row.");
        var best = 0;
        for (var i = 1; i < x.Length; i++)
        {
            if (x[i] > x[best] || float.IsNaN(x[best]))
                best = i;
        }
        return best;
    }
}
