using EdgeLm.Gguf;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Testing;
using EdgeLm.Tokenizers;

namespace EdgeLm.Runtime.Tests.AI;

/// <summary>
/// Small models with random weights but a real vocabulary (from .cache/hf-tokenizers, fetched by
/// scripts/fetch-tokenizers.sh) and that family's real chat template (tests/fixtures/chat-templates), so tool calls go
/// through templates that write tools: Qwen3 (Hermes &lt;tool_call&gt; blocks) and Llama 3.2 (JSON calls). Written once
/// per machine into the temp folder (deterministic for their seed).
/// </summary>
public static class SynthChatModels
{
    private static readonly Lock Gate = new();

    /// <summary>qwen2 architecture, Qwen3's 151k-token vocabulary and chat template.</summary>
    public static string Qwen3() => Write("qwen3-vocab-synth-v1.gguf", "qwen2", "qwen3", "qwen3.jinja");

    /// <summary>llama architecture, Llama 3's 128k-token vocabulary and Llama 3.2's chat template.</summary>
    public static string Llama3() => Write("llama3-vocab-synth-v1.gguf", "llama", "llama3", "llama3.2.jinja");

    private static string Write(string name, string architecture, string vocabulary, string template)
    {
        string path = Path.Combine(Path.GetTempPath(), "edgelm-tests", name);
        lock (Gate)
        {
            if (File.Exists(path))
                return path;
            string dir = Path.Combine(RepoPaths.Cache, "hf-tokenizers", vocabulary);
            var metadata = TokenizerVocabulary.FromHuggingFace(Path.Combine(dir, "tokenizer.json"), Path.Combine(dir, "tokenizer_config.json"))
                .ToGgufMetadata().ToList();
            metadata.Add(new(GgufKeys.TokenizerChatTemplate, GgufValue.From(File.ReadAllText(RepoPaths.Fixture("chat-templates", template)))));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            ModelSynthesizer.Write(path, new SynthesisOptions
            {
                Architecture = architecture,
                EmbeddingLength = 32,
                BlockCount = 1,
                HeadCount = 2,
                KeyValueHeadCount = 1,
                FeedForwardLength = 64,
                StandardDeviation = 0.1f,
                TiedEmbeddings = true,
                Seed = 7,
                ContextLength = 4096,
            }, metadata);
            return path;
        }
    }
}
