using System.Text.Json.Nodes;
using EdgeLm.Tokenizers.ChatTemplates;

namespace EdgeLm.Tokenizers.Tests.ChatTemplates;

/// <summary>What a template sees of a <see cref="ChatTemplateContext"/>, and the builders' message shapes.</summary>
public class ContextTests
{
    private const string Probe =
        "{{ tools is none }}|{{ bos_token is defined }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ messages|length }}|{{ enable_thinking }}";

    [Fact]
    public void StandardVariablesAreDefinedAsTransformersDefinesThem()
    {
        var context = new ChatTemplateContext { EosToken = "</s>", AddGenerationPrompt = true }
            .AddMessage("user", "hi")
            .SetVariable("enable_thinking", false);
        Assert.Equal("true|false|</s>|true|1|false", ChatTemplate.Parse(Probe).Render(context));
    }

    [Fact]
    public void BuildersProduceTheOpenAiShapes()
    {
        var context = new ChatTemplateContext()
            .AddMessage("user", "weather?")
            .AddToolCalls("", new ChatToolCall("get_weather", new JsonObject { ["city"] = "Paris" }, "call12345"))
            .AddToolResult("sunny", "call12345", "get_weather")
            .AddTool("get_weather", "Weather now.", new JsonObject { ["type"] = "object" });

        Assert.Equal(
            """[{"role":"user","content":"weather?"},{"role":"assistant","content":"","tool_calls":[{"id":"call12345","type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},{"role":"tool","tool_call_id":"call12345","name":"get_weather","content":"sunny"}]""",
            context.Messages.ToJsonString());
        Assert.Equal("""[{"type":"function","function":{"name":"get_weather","description":"Weather now.","parameters":{"type":"object"}}}]""",
            context.Tools!.ToJsonString());
    }

    [Fact]
    public void FromJsonReadsTheCaseShape()
    {
        var json = (JsonObject)JsonNode.Parse("""
            {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}], "add_generation_prompt": true,
             "bos_token": "<s>", "variables": {"enable_thinking": true}}
            """)!;
        var context = ChatTemplateContext.FromJson(json);
        Assert.Equal("false|true||true|1|true", ChatTemplate.Parse(Probe).Render(context));
        Assert.Equal("<s>", context.BosToken);
    }

    [Fact]
    public void DefaultTemplateRendersChatMlWithPartsAndToolCalls()
    {
        var context = new ChatTemplateContext { AddGenerationPrompt = true }
            .AddMessage(new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "a" }, new JsonObject { ["type"] = "image" }, new JsonObject { ["type"] = "text", ["text"] = "b" }) })
            .AddToolCalls(null, new ChatToolCall("f", JsonValue.Create("{\"x\": 1}")));
        Assert.Equal(
            "<|im_start|>user\nab<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"x\": 1}}\n</tool_call><|im_end|>\n<|im_start|>assistant\n",
            ChatTemplate.Default.Render(context));
    }

    [Fact]
    public void OneTemplateRendersConcurrently()
    {
        var template = ChatTemplate.Parse("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + m.content|length %}{% endfor %}{{ ns.n }}");
        var results = Enumerable.Range(1, 64).AsParallel().Select(i =>
        {
            var context = new ChatTemplateContext();
            for (int k = 0; k < i; k++) context.AddMessage("user", "abc");
            return (i, text: template.Render(context));
        }).ToList();
        Assert.All(results, r => Assert.Equal((r.i * 3).ToString(System.Globalization.CultureInfo.InvariantCulture), r.text));
    }

    [Fact]
    public void RenderingDoesNotChangeTheContext()
    {
        var context = new ChatTemplateContext().AddMessage("user", "x");
        string before = context.Messages.ToJsonString();
        ChatTemplate.Parse("{% set ns = namespace(m=messages) %}{% set messages = [] %}{{ messages|length }}").Render(context);
        Assert.Equal(before, context.Messages.ToJsonString());
    }
}
