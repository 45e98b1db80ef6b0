using EdgeLm.Compression.Reporting;

namespace EdgeLm.Cli.Reporting;

/// <summary>The comparison as one JSON object (printed with <c>--json</c>, written with <c>--json-file</c>).</summary>
internal static class ReportJson
{
    /// <summary>
    /// <c>{"text", "context_length", "chunks", "scored_tokens", "text_tokens", "threads", "generated_tokens", "prompt_tokens",
    /// "repetitions", "reference_cached", "reference_bytes", "models":[{"name", "path", "original", "file_type", "file_bytes",
    /// "file_mib", "tensor_bytes", "parameters", "bits_per_weight", "perplexity", "perplexity_change_percent", "kld_mean",
    /// "kld_standard_error", "kld_median", "kld_p90", "kld_p99", "kld_max", "top1_agreement", "tokens_per_second",
    /// "prompt_tokens_per_second"}]}</c>; numbers unrounded.
    /// </summary>
    public static object Build(ComparisonReport report, string textPath)
    {
        var speed = report.Original.Speed;
        return new
        {
            text = textPath,
            context_length = report.ContextLength,
            chunks = report.Chunks,
            scored_tokens = report.ScoredTokens,
            text_tokens = report.TextTokens,
            threads = speed.Threads,
            generated_tokens = speed.GeneratedTokens,
            prompt_tokens = speed.PromptTokens,
            repetitions = speed.Repetitions,
            reference_cached = report.ReferenceCached,
            reference_bytes = report.ReferenceBytes,
            models = report.Models.Select(m => new
            {
                name = m.Name,
                path = m.Path,
                original = m.IsOriginal,
                file_type = m.File.FileType,
                file_bytes = m.File.FileBytes,
                file_mib = m.File.FileMebibytes,
                tensor_bytes = m.File.TensorBytes,
                parameters = m.File.ElementCount,
                bits_per_weight = m.File.BitsPerWeight,
                perplexity = m.Perplexity,
                perplexity_change_percent = (m.Perplexity / report.Original.Perplexity - 1) * 100,
                kld_mean = m.Divergence.Mean,
                kld_standard_error = m.Divergence.StandardError,
                kld_median = m.Divergence.Median,
                kld_p90 = m.Divergence.P90,
                kld_p99 = m.Divergence.P99,
                kld_max = m.Divergence.Maximum,
                top1_agreement = m.Divergence.TopTokenAgreement,
                tokens_per_second = m.Speed.TokensPerSecond,
                prompt_tokens_per_second = m.Speed.PromptTokensPerSecond,
            }).ToArray(),
        };
    }
}
