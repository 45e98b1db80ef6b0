namespace EdgeLm.Runtime.Sampling;

/// <summary>Keeps the <c>k</c> most likely candidates; k &lt;= 0 keeps all.</summary>
public sealed class TopKSampler(int k) : ISampler
{
    /// <inheritdoc />
    public void Apply(CandidateList candidates)
    {
        if (k <= 0 || k >= candidates.Count)
            return;
        candidates.Sort();
        candidates.Truncate(k);
    }
}

/// <summary>
/// Nucleus sampling: keeps the smallest set of most likely candidates whose probabilities add up to at least
/// <c>p</c> (and never fewer than <c>minKeep</c>). p &gt;= 1 keeps all.
/// </summary>
public sealed class TopPSampler(float p, int minKeep = 1) : ISampler
{
    /// <inheritdoc />
    public void Apply(CandidateList candidates)
    {
        if (p >= 1f || candidates.Count == 0)
            return;
        candidates.Sort();
        candidates.ComputeProbabilities();
        var probabilities = candidates.Probabilities;
        double cumulative = 0;
        int keep = candidates.Count;
        for (int i = 0; i < probabilities.Length; i++)
        {
            cumulative += probabilities[i];
            if (cumulative >= p && i + 1 >= minKeep)
            {
                keep = i + 1;
                break;
            }
        }
        candidates.Truncate(keep);
    }
}

/// <summary>
/// Keeps the candidates whose probability is at least <c>p</c> times the most likely one's; p &lt;= 0 keeps all.
/// In logits: logit &gt;= max logit + ln p.
/// </summary>
public sealed class MinPSampler(float p, int minKeep = 1) : ISampler
{
    /// <inheritdoc />
    public void Apply(CandidateList candidates)
    {
        if (p <= 0f || candidates.Count == 0)
            return;
        candidates.Sort();
        var logits = candidates.Logits;
        float threshold = logits[0] + MathF.Log(p);
        int keep = 1;
        while (keep < logits.Length && (logits[keep] >= threshold || keep < minKeep))
            keep++;
        candidates.Truncate(keep);
    }
}

/// <summary>
/// Divides the logits by the temperature. A temperature of 0 or less keeps only the most likely candidate, which
/// makes the chain greedy.
/// </summary>
public sealed class TemperatureSampler(float temperature) : ISampler
{
    /// <inheritdoc />
    public void Apply(CandidateList candidates)
    {
        if (temperature <= 0f)
        {
            int best = candidates.ArgMax();
            (candidates.Ids[0], candidates.Ids[best]) = (candidates.Ids[best], candidates.Ids[0]);
            (candidates.Logits[0], candidates.Logits[best]) = (candidates.Logits[best], candidates.Logits[0]);
            candidates.Truncate(1);
            return;
        }
        if (temperature == 1f)
            return;
        float inverse = 1f / temperature;
        foreach (ref float logit in candidates.Logits)
            logit *= inverse;
    }
}

/// <summary>
/// Repetition, frequency and presence penalties over the last <c>lastN</c> accepted tokens, as llama.cpp applies
/// them: a repeated token's logit is divided by <c>repeat</c> when positive and multiplied by it when negative, then
/// lowered by <c>count * frequency + presence</c>.
/// </summary>
public sealed class PenaltySampler : ISampler
{
    private readonly int _lastN;
    private readonly float _repeat;
    private readonly float _frequency;
    private readonly float _presence;
    private readonly int[] _window;
    private readonly Dictionary<int, int> _counts = [];
    private int _filled;
    private int _next;

    /// <summary>Creates the sampler; a window of 0 or neutral factors make it a no-op.</summary>
    public PenaltySampler(int lastN, float repeat, float frequency, float presence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lastN);
        if (repeat <= 0f)
            throw new ArgumentOutOfRangeException(nameof(repeat), repeat, "The repetition penalty must be positive (1 disables it).");
        _lastN = lastN;
        _repeat = repeat;
        _frequency = frequency;
        _presence = presence;
        _window = new int[Math.Max(lastN, 1)];
    }

    private bool IsNeutral => _lastN == 0 || (_repeat == 1f && _frequency == 0f && _presence == 0f);

    /// <inheritdoc />
    public void Apply(CandidateList candidates)
    {
        if (IsNeutral || _counts.Count == 0)
            return;
        var ids = candidates.Ids;
        var logits = candidates.Logits;
        for (int i = 0; i < ids.Length; i++)
        {
            if (!_counts.TryGetValue(ids[i], out int count))
                continue;
            ref float logit = ref logits[i];
            logit = logit <= 0 ? logit * _repeat : logit / _repeat;
            logit -= count * _frequency + _presence;
        }
    }

    /// <inheritdoc />
    public void Accept(int token)
    {
        if (IsNeutral)
            return;
        if (_filled == _lastN)
        {
            int old = _window[_next];
            if (--_counts[old] == 0)
                _counts.Remove(old);
        }
        else
        {
            _filled++;
        }
        _window[_next] = token;
        _next = (_next + 1) % _lastN;
        _counts[token] = _counts.GetValueOrDefault(token) + 1;
    }

    /// <inheritdoc />
    public void Reset()
    {
        _counts.Clear();
        _filled = 0;
        _next = 0;
    }
}
