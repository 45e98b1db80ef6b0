using System.Runtime.InteropServices;
using EdgeLm.Compression.Evaluation;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Architectures;
using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Compression.Fitting;

/// <summary>
/// Measures how much one weight matrix's quantization costs the whole model: the matrix alone is replaced by its
/// quantized copy, the calibration chunks are run, and the KL divergence of the next-token distributions from the
/// unchanged model's is averaged over the scored positions (the second half of each chunk, as llama-perplexity does).
/// Runs in memory: the replaced matrix lives in a pinned buffer, every other weight stays in the mapping.
/// </summary>
internal sealed class SensitivityProbe : IDisposable
{
    private readonly Transformer _model;
    private readonly int[][] _chunks;
    private readonly float[][] _baseLogits; // per chunk: the unchanged model's logits at the scored positions, [scored, V]
    private readonly ForwardState _state;
    private readonly KeyValueCache _cache;
    private readonly float[] _logits;
    private readonly bool _tied;

    public SensitivityProbe(Transformer model, bool tiedEmbeddings, IReadOnlyList<int> tokens, int contextLength, int maxChunks, int? bosId, int threads)
    {
        _model = model;
        _tied = tiedEmbeddings;
        var p = model.HyperParameters;
        int chunks = Math.Min(maxChunks, tokens.Count / contextLength);
        if (chunks < 1)
            throw new FitException($"Measuring sensitivities needs at least {contextLength} calibration tokens; the text has {tokens.Count}.");
        _chunks = new int[chunks][];
        for (int c = 0; c < chunks; c++)
        {
            _chunks[c] = tokens.Skip(c * contextLength).Take(contextLength).ToArray();
            if (bosId is { } bos)
                _chunks[c][0] = bos;
        }
        (_first, _end) = Scored(contextLength);
        _cache = new KeyValueCache(p.BlockCount, contextLength, p.KeyValueLength, p.HeadDimension);
        _state = new ForwardState(p, Math.Min(64, contextLength), contextLength, threads);
        _logits = new float[(_end - _first) * p.VocabularySize];
        _baseLogits = new float[chunks][];
        for (int c = 0; c < chunks; c++)
        {
            Run(model, _chunks[c]);
            _baseLogits[c] = (float[])_logits.Clone();
        }
    }

    private readonly int _first, _end;

    /// <summary>
    /// The positions whose next-token distributions are compared: the second half of the chunk, [n/2, n-1), at most
    /// the last <see cref="MaxScored"/> of them (so the stored logits stay small for large vocabularies).
    /// </summary>
    private static (int First, int End) Scored(int n) => (Math.Max(n / 2, n - 1 - MaxScored), n - 1);

    /// <summary>Most positions scored per chunk.</summary>
    private const int MaxScored = 128;

    /// <summary>Mean KL divergence (nats) of the model with <paramref name="tensorName"/> stored as <paramref name="bytes"/> of <paramref name="type"/>.</summary>
    public double Measure(string tensorName, GgmlType type, byte[] bytes)
    {
        var handle = GCHandle.Alloc(bytes, GCHandleType.Pinned);
        try
        {
            var weights = Replace(_model.Weights, tensorName, type, handle.AddrOfPinnedObject(), out bool found);
            if (!found)
                throw new FitException($"Tensor {tensorName} is not one the forward pass uses, so its sensitivity cannot be measured; use the relative sensitivity model.");
            var model = new Transformer(_model.HyperParameters, weights);
            int V = _model.HyperParameters.VocabularySize;
            double sum = 0;
            int count = 0;
            for (int c = 0; c < _chunks.Length; c++)
            {
                Run(model, _chunks[c]);
                for (int j = 0; j < _end - _first; j++)
                {
                    sum += KlDivergence.Compute(_baseLogits[c].AsSpan(j * V, V), _logits.AsSpan(j * V, V));
                    count++;
                }
            }
            return sum / count;
        }
        finally
        {
            handle.Free();
        }
    }

    /// <summary>Evaluates tokens [0, end) of a chunk from an empty cache; the logits of positions [first, end) land in _logits.</summary>
    private void Run(Transformer model, int[] chunk)
    {
        _cache.Truncate(0);
        int V = model.HyperParameters.VocabularySize;
        void Pass(int from, int to, bool keep)
        {
            for (int done = from; done < to; done += _state.MaxBatch)
            {
                int count = Math.Min(_state.MaxBatch, to - done);
                var logits = keep ? _logits.AsSpan((done - _first) * V, count * V) : default;
                model.Forward(chunk.AsSpan(done, count), _cache, _state, logits, keep ? LogitsMode.All : LogitsMode.None);
            }
        }
        Pass(0, _first, keep: false);
        Pass(_first, _end, keep: true);
    }

    /// <summary>A copy of <paramref name="w"/> with the matrix named <paramref name="name"/> read from <paramref name="data"/>.</summary>
    private TransformerWeights Replace(TransformerWeights w, string name, GgmlType type, nint data, out bool found)
    {
        bool swapped = false;
        WeightMatrix Swap(WeightMatrix m, string candidate)
        {
            if (candidate != name)
                return m;
            swapped = true;
            return WeightMatrix.FromPinned(data, type, m.Rows, m.Columns);
        }
        string embd = TensorNames.Weight(TensorNames.TokenEmbedding), output = TensorNames.Weight(TensorNames.Output);
        var embedding = Swap(w.TokenEmbedding, embd);
        var blocks = new BlockWeights[w.Blocks.Length];
        for (int i = 0; i < blocks.Length; i++)
        {
            var b = w.Blocks[i];
            blocks[i] = new BlockWeights
            {
                AttentionNorm = b.AttentionNorm,
                Query = Swap(b.Query, TensorNames.Weight(TensorNames.AttentionQuery(i))),
                Key = Swap(b.Key, TensorNames.Weight(TensorNames.AttentionKey(i))),
                Value = Swap(b.Value, TensorNames.Weight(TensorNames.AttentionValue(i))),
                QueryBias = b.QueryBias,
                KeyBias = b.KeyBias,
                ValueBias = b.ValueBias,
                AttentionOutput = Swap(b.AttentionOutput, TensorNames.Weight(TensorNames.AttentionOutput(i))),
                FeedForwardNorm = b.FeedForwardNorm,
                Gate = Swap(b.Gate, TensorNames.Weight(TensorNames.FeedForwardGate(i))),
                Up = Swap(b.Up, TensorNames.Weight(TensorNames.FeedForwardUp(i))),
                Down = Swap(b.Down, TensorNames.Weight(TensorNames.FeedForwardDown(i))),
            };
        }
        var result = new TransformerWeights
        {
            TokenEmbedding = embedding,
            Blocks = blocks,
            OutputNorm = w.OutputNorm,
            // A tied output is the embedding matrix itself, so quantizing token_embd changes both.
            Output = _tied ? embedding : Swap(w.Output, output),
            RopeFrequencyFactors = w.RopeFrequencyFactors,
        };
        found = swapped;
        return result;
    }

    public void Dispose() => _state.MatMul.Dispose();
}
