using EdgeLm.Compression.Evaluation;
using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Quantization;
using EdgeLm.Runtime;
using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Compression.Fitting;

/// <summary>What one of llama.cpp's fixed mixes gives for a model: its size, the memory it needs, its KL divergence.</summary>
/// <param name="Mix">The mix.</param>
/// <param name="FileBytes">Its file's size.</param>
/// <param name="Memory">Memory to run it (same context, cache type, threads and margin as the fit).</param>
/// <param name="Kld">KL divergence from the original over the evaluation text, when one was given.</param>
public sealed record MixResult(FileType Mix, long FileBytes, MemoryBreakdown Memory, KlDivergenceStatistics? Kld);

/// <summary>Quantizes a model with a fixed mix (to a temporary file, deleted afterwards) to compare a fit with it.</summary>
public static class FixedMixes
{
    /// <summary>
    /// Quantizes <paramref name="source"/> as <paramref name="mix"/> with <paramref name="importance"/> (the same matrix
    /// the fit uses, for a fair comparison) and measures it.
    /// </summary>
    /// <exception cref="QuantizationException">The mix cannot be made for this model (e.g. rows its types cannot hold).</exception>
    public static MixResult Measure(string source, FileType mix, ImportanceMatrix? importance, int context, int threads, long margin,
        LanguageModel? original = null, string? evaluationText = null, int chunk = 512, int? maxChunks = null, KvCacheType cacheType = KvCacheType.F16)
    {
        ArgumentNullException.ThrowIfNull(source);
        string temp = Path.Combine(Path.GetTempPath(), $"edgelm-mix-{mix}-{Guid.NewGuid():N}.gguf");
        try
        {
            ModelQuantizer.Quantize(source, temp, new QuantizeOptions { FileType = mix, Threads = threads, Importance = importance });
            var memory = MemoryModel.ForFile(temp, context, threads, margin, cacheType: cacheType);
            KlDivergenceStatistics? kld = null;
            if (original is not null && evaluationText is not null)
            {
                using var quantized = LanguageModel.Load(temp);
                kld = FitEvaluation.Compare(original, quantized, evaluationText, chunk, maxChunks, threads);
            }
            return new MixResult(mix, new FileInfo(temp).Length, memory, kld);
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
