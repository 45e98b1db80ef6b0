namespace EdgeLm.Runtime.Sampling;

/// <summary>
/// The next-token candidates a sampler chain works on: token ids with their logits, filtered and reordered in place.
/// The buffers are sized once for the vocabulary and reused for every token, so sampling allocates nothing.
/// </summary>
public sealed class CandidateList
{
    private readonly int[] _ids;
    private readonly float[] _logits;
    private readonly float[] _probabilities;

    /// <summary>Creates buffers for a vocabulary of <paramref name="vocabularySize"/> tokens.</summary>
    public CandidateList(int vocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        _ids = new int[vocabularySize];
        _logits = new float[vocabularySize];
        _probabilities = new float[vocabularySize];
    }

    /// <summary>How many candidates remain.</summary>
    public int Count { get; private set; }

    /// <summary>True when the remaining candidates are ordered by descending logit.</summary>
    public bool IsSorted { get; private set; }

    /// <summary>The remaining candidates' token ids.</summary>
    public Span<int> Ids => _ids.AsSpan(0, Count);

    /// <summary>The remaining candidates' logits, index-aligned with <see cref="Ids"/>.</summary>
    public Span<float> Logits => _logits.AsSpan(0, Count);

    /// <summary>Probabilities from the last <see cref="ComputeProbabilities"/>, index-aligned with <see cref="Ids"/>.</summary>
    public ReadOnlySpan<float> Probabilities => _probabilities.AsSpan(0, Count);

    /// <summary>Fills the list with every token of the vocabulary and its logit.</summary>
    public void Reset(ReadOnlySpan<float> logits)
    {
        if (logits.Length != _ids.Length)
            throw new ArgumentException($"Expected {_ids.Length} logits, got {logits.Length}.", nameof(logits));
        for (int i = 0; i < logits.Length; i++)
            _ids[i] = i;
        logits.CopyTo(_logits);
        Count = logits.Length;
        IsSorted = false;
    }

    /// <summary>Orders the candidates by descending logit (ties by ascending id, so the order is deterministic).</summary>
    public void Sort()
    {
        if (IsSorted)
            return;
        // Sort by logit descending; negate into the probability buffer as the key to avoid a comparer allocation.
        var keys = _probabilities.AsSpan(0, Count);
        for (int i = 0; i < Count; i++)
            keys[i] = -_logits[i];
        keys.Sort(Ids, Comparer<float>.Default);
        for (int i = 0; i < Count; i++)
            _logits[i] = -keys[i];
        // Equal logits may have been permuted; restore ascending ids within each run of ties.
        int start = 0;
        for (int i = 1; i <= Count; i++)
        {
            if (i == Count || _logits[i] != _logits[start])
            {
                if (i - start > 1)
                    _ids.AsSpan(start, i - start).Sort();
                start = i;
            }
        }
        IsSorted = true;
    }

    /// <summary>Keeps only the first <paramref name="count"/> candidates.</summary>
    public void Truncate(int count)
    {
        if (count < 0 || count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Must be between 0 and {Count}.");
        Count = count;
    }

    /// <summary>Softmax of the remaining logits into <see cref="Probabilities"/> (computed in double for stability).</summary>
    public void ComputeProbabilities()
    {
        if (Count == 0)
            return;
        var logits = Logits;
        float max = float.NegativeInfinity;
        foreach (float l in logits)
            max = MathF.Max(max, l);
        double sum = 0;
        for (int i = 0; i < Count; i++)
        {
            float p = MathF.Exp(logits[i] - max);
            _probabilities[i] = p;
            sum += p;
        }
        float inverse = (float)(1.0 / sum);
        for (int i = 0; i < Count; i++)
            _probabilities[i] *= inverse;
    }

    /// <summary>The position of the largest logit (the lowest id among equals).</summary>
    public int ArgMax()
    {
        if (Count == 0)
            throw new InvalidOperationException("No candidates are left to choose from.");
        int best = 0;
        for (int i = 1; i < Count; i++)
        {
            if (_logits[i] > _logits[best] || (_logits[i] == _logits[best] && _ids[i] < _ids[best]))
                best = i;
        }
        return best;
    }
}
