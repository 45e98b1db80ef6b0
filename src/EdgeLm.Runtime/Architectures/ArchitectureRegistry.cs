using EdgeLm.Gguf;

namespace EdgeLm.Runtime.Architectures;

/// <summary>Chooses the architecture by <c>general.architecture</c>.</summary>
public static class ArchitectureRegistry
{
    /// <summary>Architectures EdgeLm can run.</summary>
    public static IReadOnlyList<string> Supported { get; } = [Llama.Name, Qwen2.Name];

    /// <summary>Builds the transformer described by <paramref name="file"/>.</summary>
    /// <exception cref="ModelFormatException">The architecture is unknown or the file does not describe a valid model of it.</exception>
    public static Transformer Load(GgufFile file)
    {
        string arch = file.GetStringOrNull(GgufKeys.GeneralArchitecture)
            ?? throw new ModelFormatException($"The file has no '{GgufKeys.GeneralArchitecture}' key, so it holds no model (a vocabulary-only file can only tokenize).");
        var embedding = file.FindTensor(TensorNames.Weight(TensorNames.TokenEmbedding))
            ?? throw new ModelFormatException($"The model has no '{TensorNames.Weight(TensorNames.TokenEmbedding)}' tensor.");
        if (embedding.Dimensions.Length != 2 || embedding.Dimensions[1] > int.MaxValue)
            throw new ModelFormatException($"Tensor '{embedding.Name}' must be 2-dimensional, got ({string.Join(", ", embedding.Dimensions)}).");
        int vocabularySize = (int)embedding.Dimensions[1];
        return arch switch
        {
            Llama.Name => Llama.Load(file, vocabularySize),
            Qwen2.Name => Qwen2.Load(file, vocabularySize),
            _ => throw new ModelFormatException($"Architecture '{arch}' is not supported (supported: {string.Join(", ", Supported)})."),
        };
    }
}
