namespace EdgeLm.Runtime.Sampling;

/// <summary>
/// Adds a fixed bias to chosen tokens' logits (OpenAI's <c>logit_bias</c>); a bias of negative infinity bans the
/// token. Works on any candidate order: the bias is kept as a dense per-token table, so applying it costs one pass.
/// </summary>
public sealed class LogitBiasSampler : ISampler
{
    private readonly float[] _bias;
    private readonly int[] _tokens;

    /// <summary>Creates the sampler for a vocabulary of <paramref name="vocabularySize"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A token id is outside the vocabulary, or a bias is NaN or +infinity.</exception>
    public LogitBiasSampler(int vocabularySize, IReadOnlyDictionary<int, float> bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        _bias = new float[vocabularySize];
        _tokens = [.. bias.Keys.Order()];
        foreach (var (token, value) in bias)
        {
            if ((uint)token >= (uint)vocabularySize)
                throw new ArgumentOutOfRangeException(nameof(bias), token, $"Logit bias names token {token}, but the vocabulary has {vocabularySize} tokens.");
            if (float.IsNaN(value) || float.IsPositiveInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(bias), value, $"The logit bias of token {token} must be a finite number or negative infinity.");
            _bias[token] = value;
        }
    }

    /// <inheritdoc />
    public void Apply(CandidateList candidates)
    {
        var ids = candidates.Ids;
        var logits = candidates.Logits;
        if (ids.Length == _bias.Length && AtOwnIndex(ids))
        {
            // Every biased token sits at its own index (a fresh list): touch only those.
            foreach (int token in _tokens)
                logits[token] += _bias[token];
            return;
        }
        ApplyEverywhere(ids, logits);
    }

    private bool AtOwnIndex(Span<int> ids)
    {
        foreach (int token in _tokens)
            if (ids[token] != token)
                return false;
        return true;
    }

    private void ApplyEverywhere(Span<int> ids, Span<float> logits)
    {
        for (int i = 0; i < ids.Length; i++)
            logits[i] += _bias[ids[i]];
    }
}
