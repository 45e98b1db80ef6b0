using System.Text.Json;
using EdgeLm.Runtime.AI;
using EdgeLm.Runtime.Grammar.Json;
using OpenAI.Chat;

namespace EdgeLm.Server.Tests;

/// <summary>The official OpenAI .NET client against the live server.</summary>
[Collection("server")]
public sealed class OpenAIClientTests(ServerFixture server)
{
    private ChatClient Chat => server.OpenAI.GetChatClient(server.Runner.ModelId);

    [Fact]
    public async Task Chat_completions_answer_like_the_in_process_client()
    {
        var completion = (await Chat.CompleteChatAsync([new UserChatMessage("Once upon a time")],
            new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 20 })).Value;
        using var local = new EdgeLmChatClient(server.Runner);
        var expected = await local.GetResponseAsync([new(Microsoft.Extensions.AI.ChatRole.User, "Once upon a time")],
            new Microsoft.Extensions.AI.ChatOptions { Temperature = 0, MaxOutputTokens = 20 });

        Assert.Equal(expected.Text, Assert.Single(completion.Content).Text);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(20, completion.Usage.OutputTokenCount);
        Assert.Equal(expected.Usage!.InputTokenCount, completion.Usage.InputTokenCount);
        Assert.Equal(server.Runner.ModelId, completion.Model);
        Assert.StartsWith("chatcmpl-", completion.Id);
    }

    [Fact]
    public async Task Streaming_chat_completions_arrive_in_pieces_with_usage()
    {
        var options = new ChatCompletionOptions { Temperature = 0, MaxOutputTokenCount = 12 };
        string whole = (await Chat.CompleteChatAsync([new UserChatMessage("Hello")], options)).Value.Content[0].Text;
        var pieces = new List<string>();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("Hello")], options))
        {
            pieces.AddRange(update.ContentUpdate.Select(p => p.Text));
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.True(pieces.Count > 2);
        Assert.Equal(whole, string.Concat(pieces));
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.Equal(12, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task A_tool_call_round_trip()
    {
        string schema = """{"type": "object", "properties": {"city": {"type": "string", "maxLength": 10}, "days": {"type": "integer", "minimum": 1, "maximum": 7}}, "required": ["city", "days"]}""";
        var tool = ChatTool.CreateFunctionTool("get_forecast", "Weather forecast", BinaryData.FromString(schema));
        List<ChatMessage> messages = [new UserChatMessage("Weather?")];
        var options = new ChatCompletionOptions { Tools = { tool }, ToolChoice = ChatToolChoice.CreateRequiredChoice(), Temperature = 0.7f, Seed = 11, MaxOutputTokenCount = 80 };

        var first = (await Chat.CompleteChatAsync(messages, options)).Value;
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_forecast", call.FunctionName);
        Assert.StartsWith("call_", call.Id);
        using (var arguments = JsonDocument.Parse(call.FunctionArguments))
        using (var parsedSchema = JsonDocument.Parse(schema))
            Assert.Empty(JsonSchemaValidator.Validate(parsedSchema.RootElement, arguments.RootElement));

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "Sunny, 21 degrees."));
        var second = (await Chat.CompleteChatAsync(messages, new ChatCompletionOptions { Tools = { tool }, Temperature = 0, MaxOutputTokenCount = 16 })).Value;
        Assert.NotEqual(ChatFinishReason.ToolCalls, second.FinishReason);
        Assert.NotEmpty(second.Content[0].Text);
        // The tool result is part of the second prompt.
        Assert.True(second.Usage.InputTokenCount > first.Usage.InputTokenCount + first.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task Streamed_tool_calls_arrive_as_tool_call_updates()
    {
        string schema = """{"type": "object", "properties": {"on": {"type": "boolean"}}, "required": ["on"]}""";
        var tool = ChatTool.CreateFunctionTool("switch_light", "Switch the light", BinaryData.FromString(schema));
        var options = new ChatCompletionOptions { Tools = { tool }, ToolChoice = ChatToolChoice.CreateFunctionChoice("switch_light"), Temperature = 0, MaxOutputTokenCount = 60 };
        string? id = null, name = null;
        var arguments = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("Light on")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                Assert.Equal(0, call.Index);
                id ??= call.ToolCallId;
                name ??= call.FunctionName;
                arguments.Append(call.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.StartsWith("call_", id);
        Assert.Equal("switch_light", name);
        using var parsed = JsonDocument.Parse(arguments.ToString());
        Assert.True(parsed.RootElement.GetProperty("on").ValueKind is JsonValueKind.True or JsonValueKind.False);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task Json_schema_responses_parse_and_validate()
    {
        string schema = """{"type": "object", "properties": {"name": {"type": "string", "maxLength": 16}, "friends": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3}}, "required": ["name", "friends"], "additionalProperties": false}""";
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("character", BinaryData.FromString(schema), jsonSchemaIsStrict: true),
            Temperature = 0.9f,
            Seed = 21,
            MaxOutputTokenCount = 100,
        };
        var completion = (await Chat.CompleteChatAsync([new UserChatMessage("Describe a character.")], options)).Value;
        using var reply = JsonDocument.Parse(completion.Content[0].Text);
        using var parsedSchema = JsonDocument.Parse(schema);
        Assert.Empty(JsonSchemaValidator.Validate(parsedSchema.RootElement, reply.RootElement));

        var json = (await Chat.CompleteChatAsync([new UserChatMessage("JSON please")],
            new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat(), Temperature = 0, MaxOutputTokenCount = 60 })).Value;
        using var obj = JsonDocument.Parse(json.Content[0].Text);
        Assert.Equal(JsonValueKind.Object, obj.RootElement.ValueKind);
    }

    [Fact]
    public async Task Embeddings_are_the_models_and_come_back_through_base64()
    {
        var client = server.OpenAI.GetEmbeddingClient(server.Runner.ModelId);
        var one = (await client.GenerateEmbeddingAsync("The cat sat on the mat.")).Value.ToFloats();
        var expected = await server.Runner.EmbedAsync("The cat sat on the mat.");
        Assert.Equal(expected, one.ToArray());

        var many = (await client.GenerateEmbeddingsAsync(["a red ball", "a blue car", "a red ball"])).Value;
        Assert.Equal(3, many.Count);
        Assert.Equal(server.Runner.EmbeddingLength, many[1].ToFloats().Length);
        Assert.Equal(many[0].ToFloats().ToArray(), many[2].ToFloats().ToArray());
        Assert.NotEqual(many[0].ToFloats().ToArray(), many[1].ToFloats().ToArray());
        Assert.True(many.Usage.InputTokenCount > 0);
    }

    [Fact]
    public async Task Models_are_listed()
    {
        var models = (await server.OpenAI.GetOpenAIModelClient().GetModelsAsync()).Value;
        Assert.Equal(server.Runner.ModelId, Assert.Single(models).Id);
        var model = (await server.OpenAI.GetOpenAIModelClient().GetModelAsync(server.Runner.ModelId)).Value;
        Assert.Equal("edgelm", model.OwnedBy);
    }
}
