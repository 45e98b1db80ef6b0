using EdgeLm.Runtime.Sampling;

namespace EdgeLm.Runtime.Generation;

/// <summary>What one generation asks for.</summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get; init; } = 128;

    /// <summary>How each token is chosen.</summary>
    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Texts that end the generation; the text returned stops before the first one found.</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = [];

    /// <summary>Stop at the model's end-of-generation tokens (EOS, EOT); on by default.</summary>
    public bool StopAtEndOfGeneration { get; init; } = true;

    /// <summary>
    /// Samplers applied before the usual chain (penalties, top-k, ...), in order: constraints such as a grammar
    /// that remove the tokens the output may not contain, so that the draw only chooses among allowed ones.
    /// They are stateful: give each generation its own instances.
    /// </summary>
    public IReadOnlyList<ISampler> Constraints { get; init; } = [];
}

/// <summary>Why a generation ended.</summary>
public enum StopReason
{
    /// <summary>The model produced an end-of-generation token.</summary>
    EndOfGeneration,

    /// <summary>A stop sequence appeared in the text.</summary>
    StopSequence,

    /// <summary><see cref="GenerationOptions.MaxTokens"/> tokens were generated.</summary>
    MaxTokens,

    /// <summary>The context is full.</summary>
    ContextFull,
}

/// <summary>
/// One generated token and the text it made safe to show: empty while a multi-byte character or a possible stop
/// sequence is pending. The last item of a stream may carry <see cref="Id"/> = -1: text held back until the end that
/// belongs to no new token.
/// </summary>
public readonly record struct GeneratedToken(int Id, string Text);

/// <summary>The outcome of a whole generation.</summary>
public sealed record GenerationResult
{
    /// <summary>The prompt as evaluated.</summary>
    public required int[] PromptTokens { get; init; }

    /// <summary>Generated token ids (an end-of-generation token that stopped the run is not included).</summary>
    public required int[] Tokens { get; init; }

    /// <summary>The generated text, cut before any stop sequence.</summary>
    public required string Text { get; init; }

    /// <summary>Why generation ended.</summary>
    public required StopReason StopReason { get; init; }

    /// <summary>Time spent evaluating the prompt.</summary>
    public required TimeSpan PromptTime { get; init; }

    /// <summary>Time spent generating, from the first sampled token on.</summary>
    public required TimeSpan GenerationTime { get; init; }

    /// <summary>Prompt tokens evaluated per second.</summary>
    public double PromptTokensPerSecond => PromptTokens.Length / Math.Max(PromptTime.TotalSeconds, 1e-9);

    /// <summary>Tokens generated per second.</summary>
    public double TokensPerSecond => Tokens.Length / Math.Max(GenerationTime.TotalSeconds, 1e-9);
}
