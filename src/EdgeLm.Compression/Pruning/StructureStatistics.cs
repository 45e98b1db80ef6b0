using EdgeLm.Compression.Importance;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Compression.Pruning;

/// <summary>What the calibration text showed about one block.</summary>
/// <param name="FeedForwardMeanAbs">[FeedForwardLength]: mean |h_c| of each FFN channel, h = silu(gate x) * (up x), the input of ffn_down.</param>
/// <param name="AttentionMeanSquares">[HeadCount x HeadDimension]: mean square of each dimension of the attention heads' output (the input of attn_output).</param>
/// <param name="MeanCosine">Mean over tokens of the cosine similarity between the block's input and output residual: near 1 means the block changes little.</param>
public sealed record BlockStatistics(float[] FeedForwardMeanAbs, float[] AttentionMeanSquares, double MeanCosine);

/// <summary>
/// Activation statistics for structured pruning, measured through the forward pass's trace hook on calibration
/// text, chunk by chunk as <see cref="ImportanceCollector"/> runs it (each chunk from an empty cache, BOS first).
/// </summary>
public sealed class StructureStatistics
{
    /// <summary>Creates statistics from per-block values (one entry per block, in order).</summary>
    public StructureStatistics(IReadOnlyList<BlockStatistics> blocks, int tokens)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        Blocks = blocks.ToArray();
        Tokens = tokens;
    }

    /// <summary>Per block, in order.</summary>
    public IReadOnlyList<BlockStatistics> Blocks { get; }

    /// <summary>Calibration tokens the means were taken over.</summary>
    public int Tokens { get; }

    /// <summary>Runs <paramref name="tokens"/> (BOS included when the model adds one) through <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">Fewer tokens than one chunk.</exception>
    public static StructureStatistics Collect(LanguageModel model, IReadOnlyList<int> tokens, ImportanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(options);
        int n = options.ContextLength;
        int chunks = options.ChunkCount(tokens.Count);

        var p = model.HyperParameters;
        int L = p.BlockCount, E = p.EmbeddingLength, F = p.FeedForwardLength, Q = p.QueryLength;
        var ffnAbs = new double[L][];
        var attnSquares = new double[L][];
        var cosineSums = new double[L];
        for (int b = 0; b < L; b++)
        {
            ffnAbs[b] = new double[F];
            attnSquares[b] = new double[Q];
        }
        // The residual entering the current block: inp_embd for block 0, then each block's l_out. [T, E]
        float[] residual = new float[n * E];
        var session = model.CreateSession(new SessionOptions { ContextLength = n, Threads = options.Threads });
        session.Trace = (name, block, values, rows) =>
        {
            switch (name)
            {
                case "inp_embd":
                    values.CopyTo(residual);
                    break;
                case "ffn_down_inp":
                    AddColumns(ffnAbs[block], values, rows, square: false);
                    break;
                case "kqv_out":
                    AddColumns(attnSquares[block], values, rows, square: true);
                    break;
                case "l_out":
                    for (int t = 0; t < rows; t++)
                        cosineSums[block] += Cosine(residual.AsSpan(t * E, E), values.Slice(t * E, E));
                    values.CopyTo(residual);
                    break;
            }
        };

        int? bos = model.Tokenizer.AddBos ? model.Tokenizer.BosId : null;
        var chunk = new int[n];
        for (int c = 0; c < chunks; c++)
        {
            for (int i = 0; i < n; i++)
                chunk[i] = tokens[c * n + i];
            if (bos is { } b)
                chunk[0] = b;
            session.Reset();
            session.Evaluate(chunk);
            options.Progress?.Invoke(c + 1, chunks);
        }

        int count = chunks * n;
        var blocks = new BlockStatistics[L];
        for (int b = 0; b < L; b++)
            blocks[b] = new BlockStatistics(Mean(ffnAbs[b], count), Mean(attnSquares[b], count), cosineSums[b] / count);
        return new StructureStatistics(blocks, count);
    }

    private static void AddColumns(double[] sums, ReadOnlySpan<float> values, int rows, bool square)
    {
        int w = sums.Length;
        for (int r = 0; r < rows; r++)
        {
            var x = values.Slice(r * w, w);
            for (int j = 0; j < w; j++)
                sums[j] += square ? (double)x[j] * x[j] : Math.Abs(x[j]);
        }
    }

    private static float[] Mean(double[] sums, int count) => sums.Select(s => (float)(s / count)).ToArray();

    /// <summary>cos(a, b) in double; 1 when either vector is zero (nothing changed that can be measured).</summary>
    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            aa += (double)a[i] * a[i];
            bb += (double)b[i] * b[i];
        }
        return aa == 0 || bb == 0 ? 1 : dot / Math.Sqrt(aa * bb);
    }
}
