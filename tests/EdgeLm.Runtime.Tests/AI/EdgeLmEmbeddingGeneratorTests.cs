using System.Numerics.Tensors;
using EdgeLm.Runtime.AI;
using EdgeLm.Runtime.Generation;
using Microsoft.Extensions.AI;

namespace EdgeLm.Runtime.Tests.AI;

public class EdgeLmEmbeddingGeneratorTests(Stories260KFixture fixture) : IClassFixture<Stories260KFixture>
{
    [Fact]
    public async Task Embeddings_are_unit_mean_hidden_states_of_the_model_width()
    {
        using var generator = new EdgeLmEmbeddingGenerator(fixture.Model, new ModelRunnerOptions { Threads = 1 });
        string[] texts = ["The cat sat on the mat.", "The cat sat on the mat.", "Lily went to the park with her mom."];
        var embeddings = await generator.GenerateAsync(texts);

        int E = fixture.Model.HyperParameters.EmbeddingLength;
        Assert.Equal(3, embeddings.Count);
        Assert.All(embeddings, e => Assert.Equal(E, e.Vector.Length));
        Assert.All(embeddings, e => Assert.Equal(1f, TensorPrimitives.Norm(e.Vector.Span), 4));
        Assert.Equal(embeddings[0].Vector.ToArray(), embeddings[1].Vector.ToArray());
        Assert.True(TensorPrimitives.CosineSimilarity(embeddings[0].Vector.Span, embeddings[2].Vector.Span) < 0.999f);
        Assert.Equal(E, generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelDimensions);

        // Independently: evaluate one token at a time (the KV-cache path) and average the traced final states.
        var tokens = fixture.Model.Tokenizer.Encode(texts[2], addSpecial: true, parseSpecial: false);
        var session = fixture.Model.CreateSession(new SessionOptions { Threads = 1 });
        var sum = new float[E];
        session.Trace = (name, _, values, rows) =>
        {
            if (name == "result_norm")
                TensorPrimitives.Add(sum, values[..E], sum);
        };
        foreach (int t in tokens)
            session.Evaluate([t]);
        TensorPrimitives.Divide(sum, TensorPrimitives.Norm(sum), sum);
        var ours = embeddings[2].Vector.Span;
        for (int i = 0; i < E; i++)
            Assert.Equal(sum[i], ours[i], 4);
    }

    [Fact]
    public async Task Other_dimensions_and_overlong_texts_are_refused()
    {
        using var generator = new EdgeLmEmbeddingGenerator(fixture.Model, new ModelRunnerOptions { Threads = 1, ContextLength = 16 });
        await Assert.ThrowsAsync<InvalidChatRequestException>(() => generator.GenerateAsync(["a"], new EmbeddingGenerationOptions { Dimensions = 7 }));
        await Assert.ThrowsAsync<ContextOverflowException>(() => generator.GenerateAsync([string.Concat(Enumerable.Repeat("story ", 40))]));
        Assert.Equal(0, generator.Runner.Sessions.Busy);
    }
}
