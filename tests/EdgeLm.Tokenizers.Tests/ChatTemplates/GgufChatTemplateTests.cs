using EdgeLm.Gguf;
using EdgeLm.Testing;
using EdgeLm.Tokenizers.ChatTemplates;

namespace EdgeLm.Tokenizers.Tests.ChatTemplates;

/// <summary>Templates and special tokens read from real GGUF files.</summary>
public class GgufChatTemplateTests
{
    [Fact]
    public void LoadsTheTemplateAndSpecialTokensOfAGgufFile()
    {
        using var file = GgufFile.Open(RepoPaths.Fixture("vocab", "ggml-vocab-phi-3.gguf"));
        var template = GgufChatTemplate.Load(file);
        Assert.Equal(File.ReadAllText(RepoPaths.Fixture("chat-templates", "phi3.jinja")), template.Source);

        var context = GoldenTests.LoadCase("phi3", "multi-turn");
        string fromFixture = (context.BosToken!, context.EosToken!).ToString();
        context.BosToken = context.EosToken = null;
        context.UseSpecialTokensOf(file);
        Assert.Equal(fromFixture, (context.BosToken!, context.EosToken!).ToString());
        Assert.Equal(File.ReadAllText(RepoPaths.Fixture("chat-templates", "golden", "phi3__multi-turn.txt")), template.Render(context));
    }

    [Fact]
    public void FallsBackToTheDefaultTemplateWhenTheFileHasNone()
    {
        using var file = GgufFile.Open(RepoPaths.Stories260K);
        Assert.Null(GgufChatTemplate.ReadSource(file));
        Assert.Same(ChatTemplate.Default, GgufChatTemplate.Load(file));
        var context = new ChatTemplateContext().UseSpecialTokensOf(file);
        Assert.Equal(("<s>", "</s>"), (context.BosToken, context.EosToken));
    }

    [Fact]
    public void ReadsNamedTemplatesAndRejectsBadTokenIds()
    {
        var writer = new GgufWriter();
        writer.SetMetadata(GgufKeys.TokenizerTokens, GgufValue.FromStrings(["<a>", "<b>"]));
        writer.SetMetadata(GgufKeys.TokenizerBosTokenId, GgufValue.From(0u));
        writer.SetMetadata(GgufKeys.TokenizerEosTokenId, GgufValue.From(7u));
        writer.SetMetadata("tokenizer.chat_template.tool_use", GgufValue.From("{{ bos_token }}tools"));
        string path = Path.Combine(Path.GetTempPath(), $"edgelm-chat-template-{Guid.NewGuid():N}.gguf");
        try
        {
            writer.Write(path);
            using var file = GgufFile.Open(path);
            Assert.Null(GgufChatTemplate.ReadSource(file));
            Assert.Equal("{{ bos_token }}tools", GgufChatTemplate.Load(file, "tool_use").Source);
            var ex = Assert.Throws<GgufFormatException>(() => new ChatTemplateContext().UseSpecialTokensOf(file));
            Assert.Contains("eos_token_id is 7", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
