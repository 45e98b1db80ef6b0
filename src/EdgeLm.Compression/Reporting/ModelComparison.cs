using EdgeLm.Compression.Evaluation;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Compression.Reporting;

/// <summary>
/// Puts an original model and its variants side by side (<c>edgelm report</c>): file size, bits per weight, perplexity,
/// KL divergence from the original and generation speed. The original is evaluated once over the text and its scored
/// logits are kept (within <see cref="ComparisonOptions.MaxReferenceBytes"/>), so each variant costs one evaluation.
/// </summary>
public static class ModelComparison
{
    /// <summary>Measures every model; <paramref name="log"/> hears one line as each step starts.</summary>
    /// <exception cref="ModelComparisonException">A variant's vocabulary differs from the original's, or the text is too short.</exception>
    /// <exception cref="FileNotFoundException">A model file is missing.</exception>
    public static ComparisonReport Run(ComparisonOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Check(options);
        log ??= _ => { };
        int n = options.ContextLength;

        using var original = LanguageModel.Load(options.OriginalPath);
        int vocabulary = original.HyperParameters.VocabularySize;
        int[] tokens = original.Tokenizer.Encode(options.Text, addSpecial: true, parseSpecial: false);
        if (tokens.Length < 2 * n)
            throw new ModelComparisonException($"the text tokenizes to {tokens.Length} tokens; a context of {n} needs at least {2 * n}.");
        if (options.PromptTokens > tokens.Length)
            throw new ModelComparisonException($"the prompt-speed test takes {options.PromptTokens} tokens of the text, which has only {tokens.Length}.");
        foreach (string path in options.VariantPaths)
        {
            using var variant = LanguageModel.Load(path);
            CheckSameVocabulary(original, variant);
        }

        int chunks = Math.Min(tokens.Length / n, options.MaxChunks ?? int.MaxValue);
        int? bos = original.Tokenizer.AddBos ? original.Tokenizer.BosId : null;
        int startToken = original.Tokenizer.BosId >= 0 ? original.Tokenizer.BosId : tokens[0];
        int[] prompt = tokens[..options.PromptTokens];
        string[] names = Labels([options.OriginalPath, .. options.VariantPaths]);

        log($"original {names[0]}: {chunks} chunks of {n} tokens");
        var originalSession = original.CreateSession(new SessionOptions { Threads = options.Threads, ContextLength = n });
        var reference = new ReferenceLogits(ChunkEvaluator(originalSession, n, vocabulary), n, vocabulary, chunks, options.MaxReferenceBytes);
        if (!reference.IsCached)
            log($"the original's logits would take {reference.Bytes / 1048576.0:F1} MiB, over the {options.MaxReferenceBytes / 1048576.0:F0} MiB budget: evaluating it again for each variant");
        var perplexity = Perplexity.Compute(tokens, n, options.MaxChunks, bos, reference.Record);
        var zero = new KlDivergenceStatistics(0, 0, 0, 0, 0, 0, 0, 1, perplexity.Value, perplexity.Value, perplexity.ScoredTokens, perplexity.Chunks);
        log($"original {names[0]}: speed");
        var speed = GenerationSpeed.Measure(original, startToken, prompt, options.GeneratedTokens, options.Repetitions, options.Threads);
        var models = new List<ModelMeasurement>
        {
            new(names[0], options.OriginalPath, true, ModelFileSummary.Of(original.File), perplexity.Value, zero, speed),
        };

        for (int i = 0; i < options.VariantPaths.Count; i++)
        {
            string path = options.VariantPaths[i];
            using var variant = LanguageModel.Load(path);
            log($"variant {i + 1}/{options.VariantPaths.Count} {names[i + 1]}: KL divergence");
            var session = variant.CreateSession(new SessionOptions { Threads = options.Threads, ContextLength = n });
            reference.Rewind();
            var divergence = KlDivergenceStatistics.Compute(tokens, n, options.MaxChunks, bos, reference.Replay, ChunkEvaluator(session, n, vocabulary));
            log($"variant {i + 1}/{options.VariantPaths.Count} {names[i + 1]}: speed");
            var variantSpeed = GenerationSpeed.Measure(variant, startToken, prompt, options.GeneratedTokens, options.Repetitions, options.Threads);
            models.Add(new ModelMeasurement(names[i + 1], path, false, ModelFileSummary.Of(variant.File), divergence.Perplexity, divergence, variantSpeed));
        }
        return new ComparisonReport(models, n, perplexity.Chunks, perplexity.ScoredTokens, tokens.Length, reference.IsCached, reference.Bytes);
    }

    /// <summary>
    /// Throws unless <paramref name="variant"/> has the original's vocabulary: the same number of logits, the same token
    /// count and the same token text for every id (otherwise its distributions are over different things).
    /// </summary>
    /// <exception cref="ModelComparisonException">The vocabularies differ; the message names the variant and the first difference.</exception>
    public static void CheckSameVocabulary(LanguageModel original, LanguageModel variant)
    {
        ArgumentNullException.ThrowIfNull(original);
        ArgumentNullException.ThrowIfNull(variant);
        int a = original.HyperParameters.VocabularySize, b = variant.HyperParameters.VocabularySize;
        if (a != b)
            throw new ModelComparisonException($"'{variant.Path}' has a vocabulary of {b} tokens, the original '{original.Path}' {a}: they cannot be compared.");
        int ta = original.Tokenizer.VocabularySize, tb = variant.Tokenizer.VocabularySize;
        if (ta != tb)
            throw new ModelComparisonException($"'{variant.Path}' has a tokenizer of {tb} tokens, the original '{original.Path}' {ta}: they cannot be compared.");
        for (int id = 0; id < ta; id++)
        {
            string x = original.Tokenizer.TokenText(id), y = variant.Tokenizer.TokenText(id);
            if (!string.Equals(x, y, StringComparison.Ordinal))
                throw new ModelComparisonException($"'{variant.Path}' has a different vocabulary from the original '{original.Path}': token {id} is '{y}', not '{x}'.");
        }
    }

    private static void Check(ComparisonOptions o)
    {
        ArgumentNullException.ThrowIfNull(o.OriginalPath);
        ArgumentNullException.ThrowIfNull(o.VariantPaths);
        ArgumentNullException.ThrowIfNull(o.Text);
        if (o.VariantPaths.Count == 0)
            throw new ArgumentException("Name at least one variant to compare with the original.", nameof(o));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.ContextLength, 4, nameof(o.ContextLength));
        if (o.MaxChunks is { } m)
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m, nameof(o.MaxChunks));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.GeneratedTokens, 1, nameof(o.GeneratedTokens));
        ArgumentOutOfRangeException.ThrowIfNegative(o.PromptTokens, nameof(o.PromptTokens));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Repetitions, 1, nameof(o.Repetitions));
        ArgumentOutOfRangeException.ThrowIfNegative(o.MaxReferenceBytes, nameof(o.MaxReferenceBytes));
    }

    /// <summary>One chunk from an empty cache to its logits [n, vocabulary], in a buffer reused from call to call.</summary>
    private static Func<int[], float[]> ChunkEvaluator(InferenceSession session, int n, int vocabulary)
    {
        var logits = new float[n * vocabulary];
        return chunk =>
        {
            session.Reset();
            session.EvaluateAll(chunk, logits);
            return logits;
        };
    }

    /// <summary>File names as labels, or the paths as given where two models share a file name.</summary>
    internal static string[] Labels(IReadOnlyList<string> paths)
    {
        var names = paths.Select(p => Path.GetFileName(p)).ToArray();
        var repeated = names.GroupBy(x => x, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        return names.Select((x, i) => repeated.Contains(x) ? paths[i] : x).ToArray();
    }
}
