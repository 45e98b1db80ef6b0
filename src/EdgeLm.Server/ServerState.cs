using EdgeLm.Runtime.AI;

namespace EdgeLm.Server;

/// <summary>What every endpoint shares: the runner, the clients over it, the options and the metrics.</summary>
internal sealed class ServerState(ModelRunner runner, EdgeLmServerOptions options)
{
    public ModelRunner Runner { get; } = runner;

    public EdgeLmChatClient Chat { get; } = new(runner);

    public EdgeLmEmbeddingGenerator Embeddings { get; } = new(runner);

    public EdgeLmServerOptions Options { get; } = options;

    public ServerMetrics Metrics { get; } = new();

    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;
}
