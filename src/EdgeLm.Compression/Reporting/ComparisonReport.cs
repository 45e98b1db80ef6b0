using EdgeLm.Compression.Evaluation;

namespace EdgeLm.Compression.Reporting;

/// <summary>Everything measured about one model of a comparison.</summary>
/// <param name="Name">Label: the file name, or the path as given when two models share a file name.</param>
/// <param name="Path">The model file.</param>
/// <param name="IsOriginal">True for the baseline.</param>
/// <param name="File">Sizes and bits per weight.</param>
/// <param name="Perplexity">Perplexity over the scored positions of the text (the <c>perplexity</c> verb's value).</param>
/// <param name="Divergence">
/// KL divergence from the original over the same positions; for the original itself all zeros, top-token agreement 1 and
/// both perplexities its own.
/// </param>
/// <param name="Speed">Generation (and prompt) speed.</param>
public sealed record ModelMeasurement(string Name, string Path, bool IsOriginal, ModelFileSummary File, double Perplexity,
    KlDivergenceStatistics Divergence, SpeedMeasurement Speed);

/// <summary>The outcome of <see cref="ModelComparison.Run"/>: the original first, then the variants in the order given.</summary>
/// <param name="Models">One measurement per model, the original first.</param>
/// <param name="ContextLength">Chunk length n.</param>
/// <param name="Chunks">Chunks evaluated.</param>
/// <param name="ScoredTokens">Positions scored per model (chunks x (n - 1 - n/2)).</param>
/// <param name="TextTokens">Tokens the text encodes to, BOS included.</param>
/// <param name="ReferenceCached">True when the original's logits were kept in memory rather than recomputed per variant.</param>
/// <param name="ReferenceBytes">Bytes those logits take (or would have taken).</param>
public sealed record ComparisonReport(IReadOnlyList<ModelMeasurement> Models, int ContextLength, int Chunks, int ScoredTokens,
    int TextTokens, bool ReferenceCached, long ReferenceBytes)
{
    /// <summary>The baseline's measurement.</summary>
    public ModelMeasurement Original => Models[0];
}

/// <summary>The models cannot be compared: a vocabulary differs, or the text is too short for the settings.</summary>
public sealed class ModelComparisonException(string message) : Exception(message);
