using System.Collections.Concurrent;
using System.Text;
using LLama;
using LLama.Common;

namespace EdgeLm.Conformance.Tests.Oracle;

/// <summary>
/// llama.cpp's tokenizer on vocabulary-only GGUF files (ggml-vocab-*.gguf, which hold metadata and no tensors),
/// loaded with VocabOnly and kept for the life of the process, one per file.
/// </summary>
public static class LlamaCppVocab
{
    private static readonly ConcurrentDictionary<string, LLamaWeights> Loaded = new(StringComparer.Ordinal);

    /// <summary>Token ids of <paramref name="text"/> (UTF-8) under the vocabulary in <paramref name="vocabGguf"/>.</summary>
    /// <param name="addSpecial">Add BOS/EOS as the vocabulary asks (llama_tokenize's add_special).</param>
    /// <param name="parseSpecial">Match special-token texts in the input.</param>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="LlamaCppException">llama.cpp could not read the vocabulary.</exception>
    public static int[] Tokenize(string vocabGguf, string text, bool addSpecial, bool parseSpecial)
    {
        ArgumentNullException.ThrowIfNull(text);
        var vocab = Get(vocabGguf);
        lock (LlamaCppNative.Gate)
            return LlamaCppModel.ToInts(vocab.NativeHandle.Tokenize(text, addSpecial, parseSpecial, Encoding.UTF8));
    }

    /// <summary>Number of tokens in the vocabulary of <paramref name="vocabGguf"/>.</summary>
    public static int VocabularySize(string vocabGguf) => Get(vocabGguf).Vocab.Count;

    /// <summary>The bytes llama.cpp prints for token <paramref name="id"/> (special tokens rendered as their text).</summary>
    public static byte[] TokenToBytes(string vocabGguf, int id)
    {
        var vocab = Get(vocabGguf);
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, vocab.Vocab.Count);
        lock (LlamaCppNative.Gate)
            return LlamaCppModel.PieceBytes(vocab.NativeHandle, id);
    }

    private static LLamaWeights Get(string vocabGguf)
    {
        ArgumentNullException.ThrowIfNull(vocabGguf);
        var path = Path.GetFullPath(vocabGguf);
        if (Loaded.TryGetValue(path, out var cached))
            return cached;
        if (!File.Exists(path))
            throw new FileNotFoundException($"No vocabulary GGUF at {path}.", path);

        LlamaCppNative.EnsureLoaded();
        lock (LlamaCppNative.Gate)
        {
            if (Loaded.TryGetValue(path, out cached))
                return cached;
            LlamaCppNative.ClearProblems();
            var parameters = new ModelParams(path) { VocabOnly = true, GpuLayerCount = 0, LoadMode = LLama.Native.LLamaLoadMode.None };
            try
            {
                var weights = LLamaWeights.LoadFromFile(parameters);
                Loaded[path] = weights;
                return weights;
            }
            catch (LLama.Exceptions.RuntimeError ex)
            {
                throw LlamaCppNative.Failure($"llama.cpp could not load the vocabulary {path}", ex);
            }
        }
    }
}
