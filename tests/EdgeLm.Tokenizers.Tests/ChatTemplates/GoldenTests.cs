using System.Text.Json.Nodes;
using EdgeLm.Testing;
using EdgeLm.Tokenizers.ChatTemplates;
using BuiltIn = EdgeLm.Tokenizers.ChatTemplates.ChatTemplates;

namespace EdgeLm.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// Every template in tests/fixtures/chat-templates renders every message set exactly as Hugging Face's engine did
/// when it produced golden/&lt;template&gt;__&lt;case&gt;.txt, or fails with the same message as its .error file.
/// </summary>
public class GoldenTests
{
    private static string Dir => RepoPaths.Fixture("chat-templates");

    public static TheoryData<string, string> Pairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var template in Directory.GetFiles(Dir, "*.jinja").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal))
        {
            foreach (var c in Directory.GetFiles(Path.Combine(Dir, "cases"), "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal))
                data.Add(template!, c!);
        }
        return data;
    }

    internal static ChatTemplateContext LoadCase(string template, string caseName)
    {
        var json = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "cases", caseName + ".json")))!;
        var context = ChatTemplateContext.FromJson(json);
        var tokens = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Dir, "templates.json")))![template]!;
        context.BosToken = tokens["bos_token"]?.GetValue<string>();
        context.EosToken = tokens["eos_token"]?.GetValue<string>();
        context.Clock = FixedClock.GoldenInstant;
        return context;
    }

    [Fact]
    public void EveryPairHasAGolden()
    {
        var pairs = Pairs();
        Assert.True(pairs.Count >= 9 * 16, $"expected at least 144 template x case pairs, found {pairs.Count}");
        foreach (var row in pairs)
        {
            string template = (string)row[0], caseName = (string)row[1];
            string basePath = Path.Combine(Dir, "golden", $"{template}__{caseName}");
            Assert.True(File.Exists(basePath + ".txt") ^ File.Exists(basePath + ".error"),
                $"{template} x {caseName}: need exactly one of .txt / .error (regenerate with tests/tools/chat-template-goldens)");
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void RendersLikeHuggingFace(string template, string caseName)
    {
        var parsed = ChatTemplate.Parse(File.ReadAllText(Path.Combine(Dir, template + ".jinja")));
        var context = LoadCase(template, caseName);
        string basePath = Path.Combine(Dir, "golden", $"{template}__{caseName}");
        if (File.Exists(basePath + ".error"))
        {
            string expected = File.ReadAllText(basePath + ".error");
            var ex = Assert.Throws<ChatTemplateException>(() => parsed.Render(context));
            Assert.Equal(expected, ex.Reason);
            Assert.NotEqual(ChatTemplateErrorKind.Syntax, ex.Kind);
            if (ex.Kind == ChatTemplateErrorKind.Raised) Assert.Equal(expected, ex.Message);
        }
        else
        {
            Assert.Equal(File.ReadAllText(basePath + ".txt"), parsed.Render(context));
        }
    }

    [Fact]
    public void DefaultTemplateIsTheFixtureThatWasRenderedByHuggingFace()
    {
        Assert.Equal(BuiltIn.DefaultSource, File.ReadAllText(Path.Combine(Dir, "edgelm-default.jinja")));
        Assert.Same(BuiltIn.Default, ChatTemplate.Default);
        var context = LoadCase("edgelm-default", "tool-call");
        Assert.Equal(File.ReadAllText(Path.Combine(Dir, "golden", "edgelm-default__tool-call.txt")), ChatTemplate.Default.Render(context));
    }
}
