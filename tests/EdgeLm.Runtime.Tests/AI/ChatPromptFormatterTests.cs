using System.Text.Json;
using EdgeLm.Runtime.AI;
using EdgeLm.Testing;
using EdgeLm.Tokenizers.ChatTemplates;
using Microsoft.Extensions.AI;

namespace EdgeLm.Runtime.Tests.AI;

public class ChatPromptFormatterTests
{
    private static ChatTemplate Fixture(string name) => ChatTemplate.Parse(File.ReadAllText(RepoPaths.Fixture("chat-templates", name)));

    private static AIFunction Weather() => AIFunctionFactory.Create((string city, int days) => $"{city}: sunny for {days} days", "get_weather", "Forecast for a city");

    [Fact]
    public void Formats_are_recognised_from_the_templates()
    {
        Assert.Equal(ToolCallFormat.Hermes, new ChatPromptFormatter(Fixture("qwen3.jinja")).ToolCallFormat);
        Assert.Equal(ToolCallFormat.Hermes, new ChatPromptFormatter(Fixture("hermes3-tool-use.jinja")).ToolCallFormat);
        Assert.Equal(ToolCallFormat.Llama3Json, new ChatPromptFormatter(Fixture("llama3.2.jinja"), "<|begin_of_text|>").ToolCallFormat);
        Assert.Equal(ToolCallFormat.Generic, new ChatPromptFormatter(Fixture("phi3.jinja")).ToolCallFormat);
        Assert.Equal(ToolCallFormat.Hermes, new ChatPromptFormatter(ChatTemplate.Default).ToolCallFormat);
    }

    [Fact]
    public void Templates_that_write_tools_get_them_and_others_get_a_system_description()
    {
        var options = new ChatOptions { Tools = [Weather()] };
        ChatMessage[] messages = [new(ChatRole.User, "Weather in Paris?")];

        var qwen = new ChatPromptFormatter(Fixture("qwen3.jinja"));
        Assert.True(qwen.TemplateWritesTools);
        string qwenPrompt = qwen.Format(messages, options);
        Assert.Contains("\"name\": \"get_weather\"", qwenPrompt);
        Assert.Contains("<tools>", qwenPrompt);

        var chatml = new ChatPromptFormatter(ChatTemplate.Default);
        Assert.False(chatml.TemplateWritesTools);
        string prompt = chatml.Format(messages, options);
        Assert.StartsWith("<|im_start|>system\nYou may call one or more functions", prompt);
        Assert.Contains("\"name\":\"get_weather\"", prompt);
        Assert.Contains("<tool_call>", prompt);
        Assert.EndsWith("<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n", prompt);

        // Tool mode none: the tools are not offered at all.
        string none = chatml.Format(messages, new ChatOptions { Tools = [Weather()], ToolMode = ChatToolMode.None });
        Assert.DoesNotContain("get_weather", none);
    }

    [Fact]
    public void Instructions_join_the_system_message()
    {
        var chatml = new ChatPromptFormatter(ChatTemplate.Default);
        string merged = chatml.Format([new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hi")], new ChatOptions { Instructions = "Speak French." });
        Assert.Equal("<|im_start|>system\nSpeak French.\n\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", merged);
        string added = chatml.Format([new(ChatRole.User, "Hi")], new ChatOptions { Instructions = "Speak French." });
        Assert.StartsWith("<|im_start|>system\nSpeak French.<|im_end|>\n<|im_start|>user\nHi", added);
    }

    [Fact]
    public void Calls_and_results_render_as_the_template_writes_them()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.User, "Weather?"),
            new(ChatRole.Assistant, [new FunctionCallContent("call_1", "get_weather", new Dictionary<string, object?> { ["city"] = "Oslo" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call_1", new { temperature = 3 })]),
        ];
        string prompt = new ChatPromptFormatter(Fixture("qwen3.jinja")).Format(messages, new ChatOptions { Tools = [Weather()] });
        Assert.Contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>", prompt);
        Assert.Contains("<tool_response>\n{\"temperature\":3}\n</tool_response>", prompt);
        Assert.EndsWith("<|im_start|>assistant\n", prompt);
    }

    [Fact]
    public void Result_text_is_the_string_or_the_json()
    {
        Assert.Equal("plain", ChatPromptFormatter.ResultText("plain"));
        Assert.Equal("[1,2]", ChatPromptFormatter.ResultText(new[] { 1, 2 }));
        Assert.Equal("quoted", ChatPromptFormatter.ResultText(JsonSerializer.SerializeToElement("quoted")));
        Assert.Equal("", ChatPromptFormatter.ResultText(null));
    }

    [Fact]
    public void Required_tool_constraints_wrap_each_tool_as_its_family_writes_calls()
    {
        var hermes = OutputConstraint.ForToolCall([Weather()], ToolCallFormat.Hermes);
        Assert.Equal("<tool_call>\n", hermes.Prefix);
        Assert.Equal("\n</tool_call>", hermes.Suffix);
        var schema = hermes.Schema!.Value;
        Assert.Equal("get_weather", schema.GetProperty("properties").GetProperty("name").GetProperty("enum")[0].GetString());
        Assert.Equal("integer", schema.GetProperty("properties").GetProperty("arguments").GetProperty("properties").GetProperty("days").GetProperty("type").GetString());

        var llama = OutputConstraint.ForToolCall([Weather(), AIFunctionFactory.Create(() => 1, "one")], ToolCallFormat.Llama3Json);
        Assert.Equal("", llama.Prefix);
        var alternatives = llama.Schema!.Value.GetProperty("anyOf");
        Assert.Equal(2, alternatives.GetArrayLength());
        Assert.True(alternatives[1].GetProperty("properties").TryGetProperty("parameters", out _));
    }
}
