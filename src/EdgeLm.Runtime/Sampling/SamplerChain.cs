namespace EdgeLm.Runtime.Sampling;

/// <summary>
/// Samplers applied in order to the logits, then a final draw: the most likely survivor when the chain is greedy,
/// otherwise a seeded random draw from the survivors' softmax. Owns its buffers: sampling allocates nothing.
/// </summary>
public sealed class SamplerChain
{
    private readonly ISampler[] _samplers;
    private readonly CandidateList _candidates;
    private readonly bool _greedy;
    private readonly ulong _seed;
    private Random _random;

    /// <summary>Creates a chain of <paramref name="samplers"/> over a vocabulary of <paramref name="vocabularySize"/> tokens.</summary>
    public SamplerChain(int vocabularySize, IEnumerable<ISampler> samplers, bool greedy, ulong seed)
    {
        _samplers = samplers.ToArray();
        _candidates = new CandidateList(vocabularySize);
        _greedy = greedy;
        _seed = seed;
        _random = new Random(unchecked((int)seed ^ (int)(seed >> 32)));
    }

    /// <summary>The seed of the random draw (reported so that a run can be repeated).</summary>
    public ulong Seed => _seed;

    /// <summary>
    /// The usual chain, in llama.cpp's order: logit bias, penalties, top-k, top-p, min-p, temperature, draw; with
    /// <paramref name="constraints"/> (e.g. a grammar) after the bias, seeing the whole vocabulary.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or a biased token is not in the vocabulary.</exception>
    public static SamplerChain Create(int vocabularySize, SamplingOptions options, IEnumerable<ISampler>? constraints = null)
    {
        options.Validate();
        bool greedy = options.Temperature <= 0f;
        var samplers = new List<ISampler>();
        if (options.LogitBias.Count > 0)
            samplers.Add(new LogitBiasSampler(vocabularySize, options.LogitBias));
        samplers.AddRange(constraints ?? []);
        samplers.Add(new PenaltySampler(options.PenaltyLastN, options.RepeatPenalty, options.FrequencyPenalty, options.PresencePenalty));
        if (!greedy)
        {
            samplers.Add(new TopKSampler(options.TopK));
            samplers.Add(new TopPSampler(options.TopP));
            samplers.Add(new MinPSampler(options.MinP));
        }
        samplers.Add(new TemperatureSampler(options.Temperature));
        ulong seed = options.Seed ?? (ulong)Random.Shared.NextInt64();
        return new SamplerChain(vocabularySize, samplers, greedy, seed);
    }

    /// <summary>Chooses the next token from <paramref name="logits"/> (one per vocabulary entry) and accepts it.</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        _candidates.Reset(logits);
        foreach (var sampler in _samplers)
            sampler.Apply(_candidates);
        int token = _greedy ? _candidates.Ids[_candidates.ArgMax()] : Draw();
        Accept(token);
        return token;
    }

    /// <summary>Tells every sampler that <paramref name="token"/> is part of the sequence (used for prompt tokens).</summary>
    public void Accept(int token)
    {
        foreach (var sampler in _samplers)
            sampler.Accept(token);
    }

    /// <summary>Forgets the sequence and restarts the random draw from the seed.</summary>
    public void Reset()
    {
        foreach (var sampler in _samplers)
            sampler.Reset();
        _random = new Random(unchecked((int)_seed ^ (int)(_seed >> 32)));
    }

    private int Draw()
    {
        _candidates.ComputeProbabilities();
        var probabilities = _candidates.Probabilities;
        double target = _random.NextDouble();
        double cumulative = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            cumulative += probabilities[i];
            if (target < cumulative)
                return _candidates.Ids[i];
        }
        return _candidates.Ids[probabilities.Length - 1];
    }
}
