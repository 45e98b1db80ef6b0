using System.Text.Json;
using EdgeLm.Runtime.AI;
using EdgeLm.Runtime.Grammar.Json;
using Microsoft.Extensions.AI;

namespace EdgeLm.Runtime.Tests.AI;

/// <summary>JSON response formats and required tool calls under the real grammar engine.</summary>
public class ConstrainedOutputTests(Stories260KFixture fixture) : IClassFixture<Stories260KFixture>
{
    private const string PersonSchema = """
        {"type": "object",
         "properties": {
           "name": {"type": "string", "minLength": 1, "maxLength": 12},
           "age": {"type": "integer", "minimum": 0, "maximum": 120},
           "pets": {"type": "array", "items": {"enum": ["cat", "dog", "fish"]}, "maxItems": 3}},
         "required": ["name", "age"]}
        """;

    private static readonly ChatMessage[] Ask = [new(ChatRole.User, "Tell me about Lily.")];

    private EdgeLmChatClient Client() => new(fixture.Model, new ModelRunnerOptions { Threads = 1 });

    [Fact]
    public async Task Json_schema_replies_parse_and_validate_for_any_seed()
    {
        using var client = Client();
        using var schema = JsonDocument.Parse(PersonSchema);
        var format = ChatResponseFormat.ForJsonSchema(schema.RootElement, "person");
        for (long seed = 1; seed <= 4; seed++)
        {
            var options = new ChatOptions { ResponseFormat = format, Temperature = 1.0f, TopK = 0, TopP = 1, Seed = seed, MaxOutputTokens = 120 };
            var response = await client.GetResponseAsync(Ask, options);
            using var reply = JsonDocument.Parse(response.Text);
            Assert.Empty(JsonSchemaValidator.Validate(schema.RootElement, reply.RootElement));
            Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        }
    }

    [Fact]
    public async Task Json_object_replies_are_objects_and_streaming_gives_the_same_text()
    {
        using var client = Client();
        var options = new ChatOptions { ResponseFormat = ChatResponseFormat.Json, Temperature = 0, MaxOutputTokens = 80 };
        var response = await client.GetResponseAsync(Ask, options);
        using var reply = JsonDocument.Parse(response.Text);
        Assert.Equal(JsonValueKind.Object, reply.RootElement.ValueKind);
        var streamed = new List<string>();
        await foreach (var update in client.GetStreamingResponseAsync(Ask, options))
            streamed.Add(update.Text);
        Assert.Equal(response.Text, string.Concat(streamed));
    }

    [Fact]
    public async Task Unsupported_schemas_are_refused_naming_the_field()
    {
        using var client = Client();
        using var schema = JsonDocument.Parse("""{"type": "string", "pattern": "^a+$"}""");
        var error = await Assert.ThrowsAsync<InvalidChatRequestException>(() =>
            client.GetResponseAsync(Ask, new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.RootElement, "s") }));
        Assert.Equal("response_format", error.Parameter);
        Assert.Contains("pattern", error.Message);
        Assert.Equal(0, client.Runner.Sessions.Busy);
    }

    [Fact]
    public async Task Required_tool_calls_are_valid_for_any_seed()
    {
        using var client = Client();
        var dim = AIFunctionFactory.Create((string room, int level) => $"{room} at {level}", "set_light", "Set the light level of a room");
        var alarm = AIFunctionFactory.Create((bool armed) => armed, "set_alarm", "Arm or disarm the alarm");
        for (long seed = 1; seed <= 2; seed++)
        {
            var response = await client.GetResponseAsync([new(ChatRole.User, "Dim the kitchen.")],
                new ChatOptions { Tools = [dim, alarm], ToolMode = ChatToolMode.RequireAny, Seed = seed, Temperature = 1f, MaxOutputTokens = 80 });
            var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            var tool = call.Name == "set_light" ? dim : Assert.IsAssignableFrom<AIFunction>(call.Name == "set_alarm" ? alarm : null);
            var arguments = JsonSerializer.SerializeToElement(call.Arguments);
            Assert.Empty(JsonSchemaValidator.Validate(tool.JsonSchema, arguments));
            Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        }
    }

    [Fact]
    public async Task A_required_call_runs_under_function_invocation_and_the_model_answers_after_it()
    {
        using var inner = Client();
        var rooms = new List<string>();
        var dim = AIFunctionFactory.Create((string room, int level) => { rooms.Add(room); return "done"; }, "set_light", "Set the light level of a room");
        using var client = inner.AsBuilder().UseFunctionInvocation().Build();
        var response = await client.GetResponseAsync([new(ChatRole.User, "Dim the kitchen.")],
            new ChatOptions { Tools = [dim], ToolMode = ChatToolMode.RequireAny, Seed = 5, Temperature = 0.8f, MaxOutputTokens = 100 });
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal([((JsonElement)call.Arguments!["room"]!).GetString()!], rooms);
        Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>(), r => r.CallId == call.CallId);
        // After the result the tool mode is back to auto: the last message is the model's own reply.
        Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
        Assert.Empty(response.Messages[^1].Contents.OfType<FunctionCallContent>());
    }

    [Fact]
    public async Task A_qwen3_template_model_offers_tools_through_its_template_and_calls_them_in_hermes_blocks()
    {
        using var model = LanguageModel.Load(SynthChatModels.Qwen3());
        using var client = new EdgeLmChatClient(model, new ModelRunnerOptions { Threads = 1, ContextLength = 1024 });
        Assert.False(client.Runner.UsesDefaultChatTemplate);
        Assert.True(client.Runner.Formatter.TemplateWritesTools);
        Assert.Equal(ToolCallFormat.Hermes, client.Runner.Formatter.ToolCallFormat);

        var thermostat = AIFunctionFactory.Create((string room, double celsius) => "ok", "set_temperature", "Set a room's temperature");
        var options = new ChatOptions { Tools = [thermostat], ToolMode = ChatToolMode.RequireSpecific("set_temperature"), Temperature = 0.7f, Seed = 3, MaxOutputTokens = 60 };
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new(ChatRole.User, "Make the bedroom warmer.")], options))
            updates.Add(update);
        var call = Assert.Single(updates.SelectMany(u => u.Contents).OfType<FunctionCallContent>());
        Assert.Equal("set_temperature", call.Name);
        Assert.IsType<string>(((JsonElement)call.Arguments!["room"]!).GetString());
        Assert.Equal(JsonValueKind.Number, ((JsonElement)call.Arguments["celsius"]!).ValueKind);
        Assert.Equal(ChatFinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task A_llama3_template_model_gets_json_calls_with_parameters()
    {
        using var model = LanguageModel.Load(SynthChatModels.Llama3());
        using var client = new EdgeLmChatClient(model, new ModelRunnerOptions { Threads = 1, ContextLength = 1024 });
        Assert.Equal(ToolCallFormat.Llama3Json, client.Runner.Formatter.ToolCallFormat);
        Assert.True(client.Runner.Formatter.TemplateWritesTools);

        var lock_ = AIFunctionFactory.Create((string door, bool locked) => "ok", "lock_door", "Lock or unlock a door");
        var options = new ChatOptions { Tools = [lock_], ToolMode = ChatToolMode.RequireAny, Temperature = 0.7f, Seed = 4, MaxOutputTokens = 60 };
        ChatMessage[] ask = [new(ChatRole.User, "Lock the front door.")];
        var plan = client.Runner.PrepareChat(ask, options);
        // The template writes <|begin_of_text|> itself: the prompt starts with exactly one BOS.
        Assert.Equal(model.Tokenizer.BosId, plan.PromptTokens[0]);
        Assert.NotEqual(model.Tokenizer.BosId, plan.PromptTokens[1]);
        Assert.Equal("", plan.Constraint!.Prefix);

        var response = await client.GetResponseAsync(ask, options);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("lock_door", call.Name);
        Assert.Empty(JsonSchemaValidator.Validate(lock_.JsonSchema, JsonSerializer.SerializeToElement(call.Arguments)));
    }
}
