using System.Text.Json.Nodes;
using EdgeLm.Testing;
using EdgeLm.Tokenizers.ChatTemplates;

namespace EdgeLm.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// Small templates, one language feature each (tests/fixtures/chat-templates/expressions/snippets.json), against what
/// Hugging Face's engine produced for them (expressions/golden.json): the output, the render error message, or the
/// fact that it rejected the text as invalid (syntax messages are ours, so only the kind is compared).
/// </summary>
public class ExpressionGoldenTests
{
    private static readonly string Dir = RepoPaths.Fixture("chat-templates", "expressions");
    private static readonly Lazy<JsonObject> Snippets = new(() => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "snippets.json")))!);
    private static readonly Lazy<JsonObject> Golden = new(() => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "golden.json")))!);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in (JsonObject)Snippets.Value["snippets"]!) data.Add(name);
        return data;
    }

    [Fact]
    public void EverySnippetHasAGolden()
    {
        var snippets = (JsonObject)Snippets.Value["snippets"]!;
        Assert.True(snippets.Count >= 80);
        foreach (var (name, _) in snippets) Assert.True(Golden.Value.ContainsKey(name), $"no golden for snippet {name}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesHuggingFace(string name)
    {
        string source = Snippets.Value["snippets"]![name]!["template"]!.GetValue<string>();
        var expected = (JsonObject)Golden.Value[name]!;
        if (expected.ContainsKey("syntaxError"))
        {
            var syntax = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source));
            Assert.Equal(ChatTemplateErrorKind.Syntax, syntax.Kind);
            return;
        }

        var template = ChatTemplate.Parse(source);
        var context = new ChatTemplateContext { Clock = FixedClock.GoldenInstant };
        // The reference run passed only the shared variables; the standard ones (messages, tools, ...) that a context
        // always defines are not read by any snippet.
        foreach (var (key, value) in (JsonObject)Snippets.Value["variables"]!) context.Variables[key] = value?.DeepClone();
        string rendered;
        try
        {
            rendered = template.Render(context);
        }
        catch (ChatTemplateException ex) when (expected.ContainsKey("error"))
        {
            Assert.Equal(expected["error"]!.GetValue<string>(), ex.Reason);
            return;
        }
        Assert.False(expected.ContainsKey("error"), $"expected the error \"{expected["error"]}\" but rendered \"{rendered}\"");
        Assert.Equal(expected["output"]!.GetValue<string>(), rendered);
    }
}
