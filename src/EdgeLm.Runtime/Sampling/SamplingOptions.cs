namespace EdgeLm.Runtime.Sampling;

/// <summary>
/// How the next token is chosen. Defaults follow llama.cpp's command-line defaults. A temperature of 0 is greedy.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Softmax temperature; 0 or less picks the most likely token.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the k most likely tokens; 0 keeps all.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Nucleus threshold; 1 disables it.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Minimum probability relative to the most likely token; 0 disables it.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Repetition penalty factor; 1 disables it.</summary>
    public float RepeatPenalty { get; init; } = 1.0f;

    /// <summary>Subtracted once per earlier occurrence of a token in the penalty window.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Subtracted once if a token occurs in the penalty window at all.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>How many of the latest tokens the penalties look at.</summary>
    public int PenaltyLastN { get; init; } = 64;

    /// <summary>Seed of the random draw; the same seed, model and prompt give the same text. Null draws a fresh seed.</summary>
    public ulong? Seed { get; init; }

    /// <summary>
    /// Added to the logits of the given token ids before any other sampler (OpenAI's <c>logit_bias</c>). Negative
    /// infinity bans a token. Empty by default.
    /// </summary>
    public IReadOnlyDictionary<int, float> LogitBias { get; init; } = new Dictionary<int, float>();

    /// <summary>Greedy decoding: always the most likely token.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Checks the values and names the first one that is out of range.</summary>
    public void Validate()
    {
        if (float.IsNaN(Temperature) || float.IsInfinity(Temperature))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be a finite number.");
        if (TopK < 0)
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "top-k must be 0 (off) or positive.");
        if (!(TopP > 0f && TopP <= 1f))
            throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top-p must be in (0, 1].");
        if (!(MinP >= 0f && MinP <= 1f))
            throw new ArgumentOutOfRangeException(nameof(MinP), MinP, "min-p must be in [0, 1].");
        if (!(RepeatPenalty > 0f) || float.IsInfinity(RepeatPenalty))
            throw new ArgumentOutOfRangeException(nameof(RepeatPenalty), RepeatPenalty, "The repetition penalty must be a positive number (1 disables it).");
        foreach (var (token, bias) in LogitBias)
        {
            if (token < 0)
                throw new ArgumentOutOfRangeException(nameof(LogitBias), token, "Logit bias token ids must be 0 or more.");
            if (float.IsNaN(bias) || float.IsPositiveInfinity(bias))
                throw new ArgumentOutOfRangeException(nameof(LogitBias), bias, $"The logit bias of token {token} must be a finite number or negative infinity.");
        }
        if (PenaltyLastN < 0)
            throw new ArgumentOutOfRangeException(nameof(PenaltyLastN), PenaltyLastN, "The penalty window must be 0 or positive.");
    }
}
