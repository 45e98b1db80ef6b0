using EdgeLm.Gguf;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Runtime.Synthesis;

/// <summary>
/// Writes a GGUF model of a real architecture with random weights: matrices N(0, std), norms 1, biases N(0, std).
/// The vocabulary (every <c>tokenizer.*</c> key) comes from a real tokenizer, so the model tokenizes like the real one.
/// Deterministic for a seed; tensors are generated while they are written, so large models need little memory.
/// </summary>
public static class ModelSynthesizer
{
    /// <summary>
    /// Writes the model to <paramref name="path"/> (atomically) and returns its parameter count.
    /// </summary>
    /// <param name="path">Destination file.</param>
    /// <param name="options">The shape.</param>
    /// <param name="vocabulary">The tokenizer metadata (keys starting with "tokenizer.") to copy.</param>
    public static long Write(string path, SynthesisOptions options, IReadOnlyList<KeyValuePair<string, GgufValue>> vocabulary)
    {
        options.Validate();
        var tokens = vocabulary.FirstOrDefault(kv => kv.Key == GgufKeys.TokenizerTokens).Value
            ?? throw new ArgumentException($"The vocabulary has no '{GgufKeys.TokenizerTokens}' list.", nameof(vocabulary));
        int V = tokens.AsArray().Count;
        string arch = options.Architecture;
        int E = options.EmbeddingLength, F = options.FeedForwardLength, D = E / options.HeadCount;
        int Q = options.HeadCount * D, KV = options.KeyValueHeadCount * D;

        var writer = new GgufWriter();
        writer.SetMetadata(GgufKeys.GeneralArchitecture, GgufValue.From(arch));
        writer.SetMetadata(GgufKeys.GeneralName, GgufValue.From($"edgelm-synth-{arch}-{E}x{options.BlockCount}"));
        writer.SetMetadata(GgufKeys.GeneralFileType, GgufValue.From((uint)FileType(options.Type)));
        writer.SetMetadata(GgufKeys.ContextLength(arch), GgufValue.From((uint)options.ContextLength));
        writer.SetMetadata(GgufKeys.EmbeddingLength(arch), GgufValue.From((uint)E));
        writer.SetMetadata(GgufKeys.BlockCount(arch), GgufValue.From((uint)options.BlockCount));
        writer.SetMetadata(GgufKeys.FeedForwardLength(arch), GgufValue.From((uint)F));
        writer.SetMetadata(GgufKeys.AttentionHeadCount(arch), GgufValue.From((uint)options.HeadCount));
        writer.SetMetadata(GgufKeys.AttentionHeadCountKv(arch), GgufValue.From((uint)options.KeyValueHeadCount));
        writer.SetMetadata(GgufKeys.AttentionLayerNormRmsEpsilon(arch), GgufValue.From(options.RmsNormEpsilon));
        writer.SetMetadata(GgufKeys.RopeFreqBase(arch), GgufValue.From(options.RopeFrequencyBase));
        writer.SetMetadata(GgufKeys.RopeDimensionCount(arch), GgufValue.From((uint)D));
        foreach (var (key, value) in vocabulary)
        {
            if (key.StartsWith("tokenizer.", StringComparison.Ordinal))
                writer.SetMetadata(key, value);
        }

        long parameters = 0;
        int index = 0;
        void Matrix(string name, int rows, int columns) => parameters += AddRandom(writer, name, options, rows, columns, index++);
        void Ones(string name, int length) => parameters += AddOnes(writer, name, length);
        void Bias(string name, int length) => parameters += AddRandom(writer, name, options with { Type = GgmlType.F32 }, 1, length, index++);

        Matrix(TensorNames.Weight(TensorNames.TokenEmbedding), V, E);
        for (int b = 0; b < options.BlockCount; b++)
        {
            Ones(TensorNames.Weight(TensorNames.AttentionNorm(b)), E);
            Matrix(TensorNames.Weight(TensorNames.AttentionQuery(b)), Q, E);
            Matrix(TensorNames.Weight(TensorNames.AttentionKey(b)), KV, E);
            Matrix(TensorNames.Weight(TensorNames.AttentionValue(b)), KV, E);
            if (arch == "qwen2")
            {
                Bias(TensorNames.Bias(TensorNames.AttentionQuery(b)), Q);
                Bias(TensorNames.Bias(TensorNames.AttentionKey(b)), KV);
                Bias(TensorNames.Bias(TensorNames.AttentionValue(b)), KV);
            }
            Matrix(TensorNames.Weight(TensorNames.AttentionOutput(b)), E, Q);
            Ones(TensorNames.Weight(TensorNames.FeedForwardNorm(b)), E);
            Matrix(TensorNames.Weight(TensorNames.FeedForwardGate(b)), F, E);
            Matrix(TensorNames.Weight(TensorNames.FeedForwardUp(b)), F, E);
            Matrix(TensorNames.Weight(TensorNames.FeedForwardDown(b)), E, F);
        }
        Ones(TensorNames.Weight(TensorNames.OutputNorm), E);
        if (options.RopeFrequencyFactors is { } factors)
        {
            var data = new byte[factors.Length * sizeof(float)];
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(factors.AsSpan()).CopyTo(data);
            writer.AddTensor(TensorNames.Weight(TensorNames.RopeFrequencies), GgmlType.F32, [factors.Length], data);
        }
        if (!options.TiedEmbeddings)
            Matrix(TensorNames.Weight(TensorNames.Output), V, E);

        writer.Write(path);
        return parameters;
    }

    /// <summary>llama.cpp's <c>general.file_type</c> for a model stored in <paramref name="type"/> (LLAMA_FTYPE_*).</summary>
    private static int FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.BF16 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Adds a [rows, columns] tensor (GGUF dims (columns, rows); a vector when rows is 1) of N(0, std) values.</summary>
    private static long AddRandom(GgufWriter writer, string name, SynthesisOptions options, int rows, int columns, int index)
    {
        long[] dims = rows == 1 ? [columns] : [columns, rows];
        var type = options.Type;
        long bytes = GgmlTypeInfo.RowBytes(type, columns) * rows;
        // Each tensor draws from its own stream so that its values do not depend on the other tensors' sizes.
        ulong seed = options.Seed * 0x9E3779B97F4A7C15UL + (ulong)index + 1;
        float std = options.StandardDeviation;
        writer.AddTensor(name, type, dims, bytes, stream =>
        {
            var random = new NormalSource(seed);
            var row = new float[columns];
            var encoded = new byte[GgmlTypeInfo.RowBytes(type, columns)];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < columns; c++)
                    row[c] = random.Next() * std;
                Encode(type, row, encoded);
                stream.Write(encoded);
            }
        });
        return (long)rows * columns;
    }

    private static long AddOnes(GgufWriter writer, string name, int length)
    {
        var data = new byte[length * sizeof(float)];
        for (int i = 0; i < length; i++)
            BitConverter.TryWriteBytes(data.AsSpan(i * sizeof(float)), 1f);
        writer.AddTensor(name, GgmlType.F32, [length], data);
        return length;
    }

    private static void Encode(GgmlType type, ReadOnlySpan<float> row, Span<byte> destination)
    {
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < row.Length; i++)
                    BitConverter.TryWriteBytes(destination[(i * 4)..], row[i]);
                break;
            case GgmlType.F16:
                HalfConvert.ToHalf(row, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(destination));
                break;
            case GgmlType.BF16:
                var bf16 = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(destination);
                for (int i = 0; i < row.Length; i++)
                    bf16[i] = HalfConvert.ToBf16(row[i]);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }
}
