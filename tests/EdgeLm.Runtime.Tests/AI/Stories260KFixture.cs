using EdgeLm.Testing;

namespace EdgeLm.Runtime.Tests.AI;

/// <summary>The bundled model, loaded once for a test class.</summary>
public sealed class Stories260KFixture : IDisposable
{
    public LanguageModel Model { get; } = LanguageModel.Load(RepoPaths.Stories260K);

    public void Dispose() => Model.Dispose();
}
