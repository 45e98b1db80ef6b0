using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using EdgeLm.Conformance.Tests.Support;

namespace EdgeLm.Conformance.Tests.Oracle;

/// <summary>
/// A GGUF model run by llama.cpp in-process (LLamaSharp), configured for tight comparisons: flash attention off,
/// F16 K and V cache unless asked otherwise (a quantized V cache needs flash attention in llama.cpp), the file read into memory (no mmap, so tests may replace or delete it while it is loaded),
/// CPU only. Every native call holds <see cref="LlamaCppNative.Gate"/>, so instances may be used from parallel tests.
/// </summary>
public sealed class LlamaCppModel : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private bool _disposed;

    private LlamaCppModel(string path, LLamaWeights weights, LLamaContext context)
    {
        Path = path;
        _weights = weights;
        _context = context;
        VocabularySize = weights.Vocab.Count;
        ContextLength = checked((int)context.ContextSize);
    }

    /// <summary>The file this model was loaded from.</summary>
    public string Path { get; }

    /// <summary>Number of tokens in the vocabulary: the length of every logits row.</summary>
    public int VocabularySize { get; }

    /// <summary>Positions the KV cache holds: the longest sequence <see cref="EvaluateAllLogits"/> accepts.</summary>
    public int ContextLength { get; }

    /// <summary>Loads <paramref name="ggufPath"/> with a context of <paramref name="contextLength"/> positions.</summary>
    /// <param name="threads">Threads for both single-token and batch evaluation.</param>
    /// <param name="keyType">The K cache type (llama.cpp's <c>--cache-type-k</c>).</param>
    /// <param name="valueType">The V cache type (<c>--cache-type-v</c>); llama.cpp quantizes V only with flash attention.</param>
    /// <param name="flashAttention">Use llama.cpp's flash-attention path instead of the plain matmul-softmax-matmul.</param>
    /// <param name="attentionRotation">
    /// Let llama.cpp store a quantized cache under its Walsh-Hadamard rotation (its default); false sets
    /// LLAMA_ATTN_ROT_DISABLE=1 in the native environment while the context is created.
    /// </param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="LlamaCppException">llama.cpp refused the file or could not create the context.</exception>
    public static LlamaCppModel Load(string ggufPath, int contextLength = 512, int threads = 2,
        GGMLType keyType = GGMLType.GGML_TYPE_F16, GGMLType valueType = GGMLType.GGML_TYPE_F16, bool flashAttention = false,
        bool attentionRotation = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var path = System.IO.Path.GetFullPath(ggufPath);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No GGUF model at {path}.", path);

        var parameters = CreateParameters(path, contextLength, threads, keyType, valueType, flashAttention);
        lock (LlamaCppNative.Gate)
        {
            LlamaCppNative.ClearProblems();
            LLamaWeights weights;
            try
            {
                weights = LLamaWeights.LoadFromFile(parameters);
            }
            catch (LLama.Exceptions.RuntimeError ex)
            {
                throw LlamaCppNative.Failure($"llama.cpp could not load the model {path}", ex);
            }

            try
            {
                // llama.cpp reads LLAMA_ATTN_ROT_DISABLE when it builds the KV cache, inside CreateContext.
                if (!attentionRotation)
                    NativeEnvironment.Set("LLAMA_ATTN_ROT_DISABLE", "1");
                var context = weights.CreateContext(parameters);
                return new LlamaCppModel(path, weights, context);
            }
            catch (LLama.Exceptions.RuntimeError ex)
            {
                weights.Dispose();
                throw LlamaCppNative.Failure($"llama.cpp could not create a {contextLength}-position context for {path}", ex);
            }
            finally
            {
                if (!attentionRotation)
                    NativeEnvironment.Unset("LLAMA_ATTN_ROT_DISABLE");
            }
        }
    }

    /// <summary>
    /// The parameters every oracle model uses. BatchSize equals the context length so one llama_decode call takes a
    /// whole sequence with logits at every position; UBatchSize stays at llama.cpp's default of 512.
    /// </summary>
    internal static ModelParams CreateParameters(string path, int contextLength, int threads,
        GGMLType keyType = GGMLType.GGML_TYPE_F16, GGMLType valueType = GGMLType.GGML_TYPE_F16, bool flashAttention = false)
    {
        // ModelParams reads llama.cpp's defaults, which loads the library: choose the build first.
        LlamaCppNative.EnsureLoaded();
        return new ModelParams(path)
        {
            ContextSize = (uint)contextLength,
            BatchSize = (uint)contextLength,
            UBatchSize = (uint)Math.Min(contextLength, 512),
            SeqMax = 1,
            Threads = threads,
            BatchThreads = threads,
            FlashAttention = flashAttention,
            TypeK = keyType,
            TypeV = valueType,
            GpuLayerCount = 0,
            LoadMode = LLamaLoadMode.None,
            Embeddings = false,
        };
    }

    /// <summary>llama.cpp's tokenization of <paramref name="text"/> (UTF-8) with this model's vocabulary.</summary>
    /// <param name="addBos">Add the vocabulary's BOS (and EOS where it asks for one), as llama_tokenize's add_special.</param>
    /// <param name="parseSpecial">Match special-token texts such as "&lt;s&gt;" in the input.</param>
    public int[] Tokenize(string text, bool addBos, bool parseSpecial)
    {
        ArgumentNullException.ThrowIfNull(text);
        lock (LlamaCppNative.Gate)
        {
            ThrowIfDisposed();
            return ToInts(_weights.NativeHandle.Tokenize(text, addBos, parseSpecial, Encoding.UTF8));
        }
    }

    /// <summary>The bytes llama.cpp prints for token <paramref name="id"/> (special tokens rendered as their text).</summary>
    public byte[] TokenToBytes(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, VocabularySize);
        lock (LlamaCppNative.Gate)
        {
            ThrowIfDisposed();
            return PieceBytes(_weights.NativeHandle, id);
        }
    }

    /// <summary>
    /// <see cref="TokenToBytes"/> decoded as UTF-8; a piece that is part of a multi-byte character (a byte token)
    /// decodes to U+FFFD, so compare bytes where that matters.
    /// </summary>
    public string TokenToPiece(int id) => Encoding.UTF8.GetString(TokenToBytes(id));

    /// <summary>
    /// Evaluates <paramref name="tokens"/> from position 0 on an empty KV cache in one batch and returns the logits of
    /// every position: result[t] is the distribution over the token after tokens[0..t], shape [tokens.Count][VocabularySize].
    /// </summary>
    /// <exception cref="ArgumentException">Empty, longer than the context, or an id outside the vocabulary.</exception>
    /// <exception cref="LlamaCppException">llama_decode failed.</exception>
    public float[][] EvaluateAllLogits(IReadOnlyList<int> tokens)
    {
        CheckTokens(tokens, nameof(tokens), extra: 0);
        lock (LlamaCppNative.Gate)
        {
            ThrowIfDisposed();
            var handle = _context.NativeHandle;
            handle.MemoryClear(true);

            var batch = new LLamaBatch();
            for (var t = 0; t < tokens.Count; t++)
                batch.Add(tokens[t], t, LLamaSeqId.Zero, logits: true);
            Decode(batch, $"evaluating {tokens.Count} tokens");

            var result = new float[tokens.Count][];
            for (var t = 0; t < tokens.Count; t++)
                result[t] = CopyLogits(handle, t);
            return result;
        }
    }

    /// <summary>
    /// Greedy decoding: evaluates <paramref name="prompt"/> on an empty KV cache, then appends the argmax token (the
    /// lowest id among equal maxima, as llama.cpp's greedy sampler) <paramref name="count"/> times. It does not stop
    /// at end-of-sequence tokens; the result holds only the generated ids.
    /// </summary>
    public int[] GreedyGenerate(IReadOnlyList<int> prompt, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        CheckTokens(prompt, nameof(prompt), extra: count);
        lock (LlamaCppNative.Gate)
        {
            ThrowIfDisposed();
            var handle = _context.NativeHandle;
            handle.MemoryClear(true);

            var batch = new LLamaBatch();
            for (var t = 0; t < prompt.Count; t++)
                batch.Add(prompt[t], t, LLamaSeqId.Zero, logits: t == prompt.Count - 1);
            Decode(batch, $"evaluating a {prompt.Count}-token prompt");

            var generated = new int[count];
            var lastRow = batch.TokenCount - 1;
            for (var i = 0; i < count; i++)
            {
                var next = LogitComparison.ArgMax(handle.GetLogitsIth(lastRow));
                generated[i] = next;
                if (i == count - 1)
                    break;
                batch.Clear();
                batch.Add(next, prompt.Count + i, LLamaSeqId.Zero, logits: true);
                Decode(batch, $"generating token {i + 1}");
                lastRow = 0;
            }
            return generated;
        }
    }

    /// <summary>Frees the context and the weights.</summary>
    public void Dispose()
    {
        lock (LlamaCppNative.Gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _context.Dispose();
            _weights.Dispose();
        }
    }

    internal static int[] ToInts(LLamaToken[] tokens)
    {
        var ids = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
            ids[i] = (int)tokens[i];
        return ids;
    }

    internal static byte[] PieceBytes(SafeLlamaModelHandle model, int id)
    {
        Span<byte> buffer = stackalloc byte[64];
        var length = (int)model.TokenToSpan(id, buffer, lstrip: 0, special: true);
        if (length <= buffer.Length)
            return buffer[..length].ToArray();
        var large = new byte[length];
        var written = (int)model.TokenToSpan(id, large, lstrip: 0, special: true);
        if (written != length)
            throw new LlamaCppException($"llama_token_to_piece gave {written} bytes for token {id} after announcing {length}.");
        return large;
    }

    private float[] CopyLogits(SafeLLamaContextHandle handle, int row)
    {
        var logits = handle.GetLogitsIth(row);
        if (logits.Length != VocabularySize)
            throw new LlamaCppException($"llama.cpp returned {logits.Length} logits for row {row}, expected {VocabularySize}.");
        return logits.ToArray();
    }

    private void Decode(LLamaBatch batch, string what)
    {
        LlamaCppNative.ClearProblems();
        var result = _context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok)
            throw LlamaCppNative.Failure($"llama_decode returned {result} while {what} with {System.IO.Path.GetFileName(Path)}");
    }

    private void CheckTokens(IReadOnlyList<int> tokens, string name, int extra)
    {
        ArgumentNullException.ThrowIfNull(tokens, name);
        if (tokens.Count == 0)
            throw new ArgumentException("At least one token is needed.", name);
        if ((long)tokens.Count + extra > ContextLength)
            throw new ArgumentException(
                $"{tokens.Count} tokens (+{extra} to generate) do not fit the {ContextLength}-position context.", name);
        for (var i = 0; i < tokens.Count; i++)
        {
            if ((uint)tokens[i] >= (uint)VocabularySize)
                throw new ArgumentException($"Token {tokens[i]} at index {i} is outside the vocabulary of {VocabularySize}.", name);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
