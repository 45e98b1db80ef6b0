using EdgeLm.Gguf;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Testing;
using EdgeLm.Tokenizers;

namespace EdgeLm.Runtime.Tests.AI;

/// <summary>
/// A small qwen2 model with random weights but Qwen3's real vocabulary (151k tokens, from .cache/hf-tokenizers/qwen3,
/// fetched by scripts/fetch-tokenizers.sh) and Qwen3's chat template (tests/fixtures/chat-templates/qwen3.jinja), so
/// tool calls go through a real template that writes tools and Hermes &lt;tool_call&gt; blocks. Written once per
/// machine into the temp folder (deterministic for its seed).
/// </summary>
public static class SynthQwen3
{
    private static readonly Lock Gate = new();

    public static string Path()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "edgelm-tests", "qwen3-vocab-synth-v1.gguf");
        lock (Gate)
        {
            if (File.Exists(path))
                return path;
            string dir = System.IO.Path.Combine(RepoPaths.Cache, "hf-tokenizers", "qwen3");
            var vocabulary = TokenizerVocabulary.FromHuggingFace(System.IO.Path.Combine(dir, "tokenizer.json"),
                System.IO.Path.Combine(dir, "tokenizer_config.json")).ToGgufMetadata().ToList();
            string template = File.ReadAllText(RepoPaths.Fixture("chat-templates", "qwen3.jinja"));
            vocabulary.Add(new(GgufKeys.TokenizerChatTemplate, GgufValue.From(template)));
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            ModelSynthesizer.Write(path, new SynthesisOptions
            {
                Architecture = "qwen2",
                EmbeddingLength = 32,
                BlockCount = 1,
                HeadCount = 2,
                KeyValueHeadCount = 1,
                FeedForwardLength = 64,
                StandardDeviation = 0.1f,
                TiedEmbeddings = true,
                Seed = 7,
                ContextLength = 4096,
            }, vocabulary);
            return path;
        }
    }
}
