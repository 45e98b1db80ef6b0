using Microsoft.Extensions.AI;

namespace EdgeLm.Runtime.AI;

/// <summary>
/// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over a local model: each text's embedding is the unit-length
/// mean of the model's final normalized hidden states (see <see cref="ModelRunner.EmbedAsync"/>), of width
/// <see cref="ModelRunner.EmbeddingLength"/>. Thread-safe.
/// </summary>
public sealed class EdgeLmEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly bool _ownsRunner;
    private readonly EmbeddingGeneratorMetadata _metadata;

    /// <summary>A generator over <paramref name="runner"/>, which stays the caller's.</summary>
    public EdgeLmEmbeddingGenerator(ModelRunner runner) : this(runner, ownsRunner: false)
    {
    }

    /// <summary>A generator over <paramref name="model"/> with its own runner (disposed with the generator).</summary>
    public EdgeLmEmbeddingGenerator(LanguageModel model, ModelRunnerOptions? options = null) : this(new ModelRunner(model, options), ownsRunner: true)
    {
    }

    private EdgeLmEmbeddingGenerator(ModelRunner runner, bool ownsRunner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        Runner = runner;
        _ownsRunner = ownsRunner;
        _metadata = new EmbeddingGeneratorMetadata("edgelm", null, runner.ModelId, runner.EmbeddingLength);
    }

    /// <summary>The runner embeddings are computed in.</summary>
    public ModelRunner Runner { get; }

    /// <inheritdoc />
    /// <exception cref="InvalidChatRequestException">A dimension other than the model's width was asked for, or an input is empty.</exception>
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int dimensions && dimensions != Runner.EmbeddingLength)
            throw new InvalidChatRequestException(
                $"This model's embeddings have {Runner.EmbeddingLength} dimensions; {dimensions} were asked for.", "dimensions");
        var inputs = values.ToList();
        var results = new GeneratedEmbeddings<Embedding<float>>(inputs.Count);
        foreach (string input in inputs)
        {
            var vector = await Runner.EmbedAsync(input, cancellationToken).ConfigureAwait(false);
            results.Add(new Embedding<float>(vector) { ModelId = Runner.ModelId, CreatedAt = DateTimeOffset.UtcNow });
        }
        results.Usage = new UsageDetails { InputTokenCount = CountTokens(inputs) };
        return results;
    }

    private int CountTokens(List<string> inputs) =>
        inputs.Sum(t => Runner.Model.Tokenizer.Encode(t, addSpecial: true, parseSpecial: false).Length);

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata))
            return _metadata;
        if (serviceType.IsInstanceOfType(this))
            return this;
        if (serviceType.IsInstanceOfType(Runner))
            return Runner;
        return null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsRunner)
            Runner.Dispose();
    }
}
