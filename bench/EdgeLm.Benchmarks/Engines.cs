using System.Runtime.CompilerServices;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;
using LLama;
using LLama.Common;
using LLama.Native;

namespace EdgeLm.Benchmarks;

/// <summary>
/// One engine with one model loaded and one sequence: what the protocol drives. Both engines get the same token ids,
/// the same context length and the same thread count.
/// </summary>
internal interface IBenchEngine : IDisposable
{
    int VocabularySize { get; }

    /// <summary>The id that starts a sequence (BOS), or 0 when the vocabulary has none.</summary>
    int StartId { get; }

    /// <summary>The settings used, in words, for the report.</summary>
    string Settings { get; }

    /// <summary>Bytes of the KV cache, when the engine says.</summary>
    long? KvCacheBytes { get; }

    /// <summary>Empties the sequence.</summary>
    void Reset();

    /// <summary>Evaluates <paramref name="tokens"/> after the sequence so far and returns the argmax of the last logits.</summary>
    int Evaluate(ReadOnlySpan<int> tokens);
}

internal static class Engine
{
    /// <summary>Largest forward batch for both engines: llama.cpp's default micro-batch.</summary>
    public const int MaxBatch = 512;

    public static IBenchEngine Load(string engine, string path, ProtocolSettings s) => engine switch
    {
        EngineNames.EdgeLm => LoadEdgeLm(path, s),
        EngineNames.LlamaCpp or EngineNames.LlamaCppPassive => LoadLlamaCpp(path, s),
        _ => throw new ArgumentException($"Unknown engine '{engine}'.", nameof(engine)),
    };

    // Separate, never inlined: compiling Load then loads neither engine's assemblies, so a child process holds only the
    // engine it measures (its RSS is that engine's alone).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IBenchEngine LoadEdgeLm(string path, ProtocolSettings s) => new EdgeLmEngine(path, s);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IBenchEngine LoadLlamaCpp(string path, ProtocolSettings s) => new LlamaCppEngine(path, s);

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
                best = i;
        }
        return best;
    }
}

/// <summary>EdgeLm: the model memory-mapped, one session with an F16 KV cache of the protocol's context.</summary>
internal sealed class EdgeLmEngine : IBenchEngine
{
    private readonly LanguageModel _model;
    private readonly InferenceSession _session;

    public EdgeLmEngine(string path, ProtocolSettings s)
    {
        _model = LanguageModel.Load(path);
        int batch = Math.Min(Math.Max(s.PromptTokens, s.FirstTokenPromptTokens), Engine.MaxBatch);
        _session = _model.CreateSession(new SessionOptions { Threads = s.Threads, ContextLength = s.ContextLength, BatchSize = batch });
        Settings = $"threads {s.Threads}, context {s.ContextLength}, batch {batch}, F16 KV cache, weights memory-mapped";
    }

    public int VocabularySize => _model.HyperParameters.VocabularySize;
    public int StartId => _model.Tokenizer.BosId >= 0 ? _model.Tokenizer.BosId : 0;
    public string Settings { get; }
    public long? KvCacheBytes => _session.Cache.ByteSize;
    public void Reset() => _session.Reset();
    public int Evaluate(ReadOnlySpan<int> tokens) => Engine.ArgMax(_session.Evaluate(tokens));
    public void Dispose() => _model.Dispose();
}

/// <summary>
/// llama.cpp through LLamaSharp with its normal fast settings: the best native build for the CPU, the model
/// memory-mapped, llama.cpp's default F16 KV cache and its default flash-attention choice, batch = context, micro-batch
/// min(context, 512), the same thread count for single tokens and batches, one sequence, no GPU.
/// </summary>
internal sealed class LlamaCppEngine : IBenchEngine
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private int _position;

    public LlamaCppEngine(string path, ProtocolSettings s)
    {
        LlamaCppLibrary.EnsureLoaded();
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)s.ContextLength,
            BatchSize = (uint)s.ContextLength,
            UBatchSize = (uint)Math.Min(s.ContextLength, Engine.MaxBatch),
            SeqMax = 1,
            Threads = s.Threads,
            BatchThreads = s.Threads,
            GpuLayerCount = 0,
            LoadMode = LLamaLoadMode.MemoryMap,
            Embeddings = false,
        };
        _weights = LLamaWeights.LoadFromFile(parameters);
        _context = _weights.CreateContext(parameters);
        VocabularySize = _weights.Vocab.Count;
        StartId = _weights.Vocab.BOS is { } bos ? (int)bos : 0;
        _settings = $"threads {s.Threads}, context {s.ContextLength}, batch {parameters.BatchSize}, micro-batch {parameters.UBatchSize}, " +
                   $"KV cache {parameters.TypeK?.ToString() ?? "default (F16)"}/{parameters.TypeV?.ToString() ?? "default (F16)"}, flash attention {FlashAttentionText(parameters)}, " +
                   $"weights memory-mapped, OMP_WAIT_POLICY {Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "unset"}; {LlamaCppLibrary.Description}";
    }

    public int VocabularySize { get; }
    public int StartId { get; }
    private readonly string _settings;

    /// <summary>The settings asked for, then what llama.cpp logged about its own choices while loading.</summary>
    public string Settings => LlamaCppLibrary.Notes.Count == 0 ? _settings : $"{_settings}; llama.cpp log: {string.Join(" / ", LlamaCppLibrary.Notes)}";

    public long? KvCacheBytes => null;

    public void Reset()
    {
        _context.NativeHandle.MemoryClear(false);
        _position = 0;
    }

    public int Evaluate(ReadOnlySpan<int> tokens)
    {
        _batch.Clear();
        for (int i = 0; i < tokens.Length; i++)
            _batch.Add(tokens[i], _position + i, LLamaSeqId.Zero, logits: i == tokens.Length - 1);
        var result = _context.NativeHandle.Decode(_batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama_decode returned {result} at position {_position} with {tokens.Length} tokens.");
        _position += tokens.Length;
        return Engine.ArgMax(_context.NativeHandle.GetLogitsIth(_batch.TokenCount - 1));
    }

    public void Dispose()
    {
        _context.Dispose();
        _weights.Dispose();
    }

    private static string FlashAttentionText(ModelParams parameters) =>
        parameters.FlashAttention is { } on ? (on ? "on" : "off") : "left to llama.cpp (auto)";
}
