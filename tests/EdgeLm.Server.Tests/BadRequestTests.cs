using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using EdgeLm.Runtime.AI;

namespace EdgeLm.Server.Tests;

/// <summary>Bad requests get OpenAI-style error JSON with a 4xx status naming the field at fault; nothing is generated.</summary>
[Collection("server")]
public sealed class BadRequestTests(ServerFixture server)
{
    private const string Hi = """[{"role": "user", "content": "hi"}]""";

    /// <summary>A valid conversation plus the given fields.</summary>
    private static string With(string fields) => $"{{\"messages\": {Hi}, {fields}}}";

    public static TheoryData<string, string, string?> ChatCases => new()
    {
        { "{", "not valid JSON", null },
        { "[]", "must be a JSON object", null },
        { "{}", "'messages' is required", "messages" },
        { """{"messages": "hi"}""", "'messages' must be an array, got a string", "messages" },
        { """{"messages": []}""", "at least one message", "messages" },
        { """{"messages": [42]}""", "'messages[0]' must be an object", "messages[0]" },
        { """{"messages": [{"content": "hi"}]}""", "'messages[0].role' is required", "messages[0].role" },
        { """{"messages": [{"role": "wizard", "content": "hi"}]}""", "must be system, developer, user, assistant or tool", "messages[0].role" },
        { """{"messages": [{"role": "user", "content": 7}]}""", "'messages[0].content' must be a string or an array", "messages[0].content" },
        { """{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}""", "only text content", "messages[0].content[0].type" },
        { """{"messages": [{"role": "tool", "content": "x"}]}""", "'messages[0].tool_call_id' is required", "messages[0].tool_call_id" },
        { With(""" "model": 5 """), "'model' must be a string", "model" },
        { With(""" "temperature": "hot" """), "'temperature' must be a number, got a string", "temperature" },
        { With(""" "temperature": 3 """), "between 0 and 2", "temperature" },
        { With(""" "top_p": 0 """), "top-p must be in (0, 1]", "top_p" },
        { With(""" "max_tokens": 0 """), "between 1 and", "max_tokens" },
        { With(""" "max_tokens": 1.5 """), "'max_tokens' must be an integer", "max_tokens" },
        { With(""" "max_tokens": 100000 """), "leave room for only", "max_tokens" },
        { With(""" "n": 2 """), "'n' must be between 1 and 1", "n" },
        { With(""" "min_p": 2 """), "'min_p' must be between 0 and 1", "min_p" },
        { With(""" "repeat_penalty": "x" """), "'repeat_penalty' must be a number", "repeat_penalty" },
        { With(""" "logit_bias": [1] """), "'logit_bias' must be an object", "logit_bias" },
        { With(""" "logit_bias": {"abc": 1} """), "keys must be token ids", "logit_bias" },
        { With(""" "logit_bias": {"5": 200} """), "between -100 and 100", "logit_bias.5" },
        { With(""" "logit_bias": {"99999": 1} """), "the vocabulary has 512 tokens", "logit_bias" },
        { With(""" "stop": 5 """), "'stop' must be a string or an array of strings", "stop" },
        { With(""" "stream": "yes" """), "'stream' must be a boolean", "stream" },
        { With(""" "tool_choice": "required" """), "no 'tools' were given", "tool_choice" },
        { With(""" "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}} """), "'g' is not among the tools", "tool_choice" },
        { With(""" "tools": [{"type": "retrieval"}] """), "must be 'function'", "tools[0].type" },
        { With(""" "response_format": {"type": "xml"} """), "must be text, json_object or json_schema", "response_format.type" },
        { With(""" "response_format": {"type": "json_schema"} """), "'response_format.json_schema' is required", "response_format.json_schema" },
        { With(""" "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "string", "pattern": "a+"}}} """), "pattern", "response_format" },
        { With(""" "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "integer", "minimum": 5, "maximum": 1}}} """), "cannot be enforced", "response_format" },
        { With(""" "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "string", "pattern": "x"}}}}}], "tool_choice": "required" """), "pattern", "tools" },
    };

    [Theory]
    [MemberData(nameof(ChatCases))]
    public async Task Chat_requests_with_bad_fields_get_400(string body, string message, string? param)
    {
        long generations = server.Runner.Statistics.Generations;
        var error = await ExpectErrorAsync("/v1/chat/completions", body, HttpStatusCode.BadRequest);
        Assert.Contains(message, (string)error["message"]!);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal(generations, server.Runner.Statistics.Generations);
    }

    [Fact]
    public async Task A_prompt_over_the_context_is_refused_not_truncated()
    {
        string longText = string.Concat(Enumerable.Repeat("The little dog ran to the big tree. ", 150));
        var body = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = longText }) }.ToJsonString();
        var error = await ExpectErrorAsync("/v1/chat/completions", body, HttpStatusCode.BadRequest);
        Assert.Equal("context_length_exceeded", (string?)error["code"]);
        Assert.Contains($"context holds {ServerFixture.ContextLength} tokens", (string)error["message"]!);
        var streamed = await ExpectErrorAsync("/v1/chat/completions", body.TrimEnd('}') + ", \"stream\": true}", HttpStatusCode.BadRequest);
        Assert.Equal("context_length_exceeded", (string?)streamed["code"]);
        var completion = await ExpectErrorAsync("/v1/completions", new JsonObject { ["prompt"] = longText }.ToJsonString(), HttpStatusCode.BadRequest);
        Assert.Equal("context_length_exceeded", (string?)completion["code"]);
        var embedding = await ExpectErrorAsync("/v1/embeddings", new JsonObject { ["input"] = longText }.ToJsonString(), HttpStatusCode.BadRequest);
        Assert.Equal("context_length_exceeded", (string?)embedding["code"]);
    }

    [Theory]
    [InlineData("/v1/completions", "{}", "prompt")]
    [InlineData("/v1/completions", """{"prompt": 5}""", "prompt")]
    [InlineData("/v1/completions", """{"prompt": [1, 2, 3]}""", "prompt")]
    [InlineData("/v1/completions", """{"prompt": "a", "echo": true}""", "echo")]
    [InlineData("/v1/embeddings", "{}", "input")]
    [InlineData("/v1/embeddings", """{"input": [[1, 2]]}""", "input")]
    [InlineData("/v1/embeddings", """{"input": []}""", "input")]
    [InlineData("/v1/embeddings", """{"input": "a", "encoding_format": "hex"}""", "encoding_format")]
    [InlineData("/v1/embeddings", """{"input": "a", "dimensions": 3}""", "dimensions")]
    public async Task Other_endpoints_check_their_fields(string path, string body, string param)
    {
        var error = await ExpectErrorAsync(path, body, HttpStatusCode.BadRequest);
        Assert.Equal(param, (string?)error["param"]);
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413()
    {
        string big = new('a', ServerFixture.BodyLimit + 1000);
        var body = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = big }) }.ToJsonString();
        var error = await ExpectErrorAsync("/v1/chat/completions", body, HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("request_too_large", (string?)error["code"]);
    }

    [Fact]
    public async Task Unknown_paths_and_models_get_404()
    {
        using var missing = await server.Http.GetAsync("/v1/engines");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.NotNull(JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["error"]);
        using var model = await server.Http.GetAsync("/v1/models/gpt-4o");
        Assert.Equal(HttpStatusCode.NotFound, model.StatusCode);
        Assert.Equal("model_not_found", (string?)JsonNode.Parse(await model.Content.ReadAsStringAsync())!["error"]!["code"]);
    }

    [Fact]
    public async Task Api_keys_are_required_when_configured()
    {
        var (runner, running) = await ServerFixture.StartAsync(new ModelRunnerOptions { Threads = 1, ContextLength = 128 }, new EdgeLmServerOptions { ApiKey = "s3cret" });
        try
        {
            using var http = new HttpClient { BaseAddress = running.BaseAddress };
            const string body = """{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}""";
            using var none = await http.SendAsync(SseClient.Post("/v1/chat/completions", body));
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("invalid_api_key", (string?)JsonNode.Parse(await none.Content.ReadAsStringAsync())!["error"]!["code"]);
            using var wrong = await http.SendAsync(SseClient.Post("/v1/chat/completions", body, "s3cre"));
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            using var right = await http.SendAsync(SseClient.Post("/v1/chat/completions", body, "s3cret"));
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
            // The official client sends the key the same way.
            var models = await ServerFixture.CreateOpenAIClient(running.BaseAddress, "s3cret").GetOpenAIModelClient().GetModelsAsync();
            Assert.Single(models.Value);
            // Health and the page stay open for probes and browsers.
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        }
        finally
        {
            await running.DisposeAsync();
            runner.Dispose();
        }
    }

    [Fact]
    public async Task A_full_queue_gets_503_with_retry_after()
    {
        var (runner, running) = await ServerFixture.StartAsync(new ModelRunnerOptions { Threads = 1, ContextLength = 128, Sessions = 1, QueueLimit = 0 });
        try
        {
            using var http = new HttpClient { BaseAddress = running.BaseAddress };
            using (await runner.Sessions.AcquireAsync())
            {
                using var busy = await http.SendAsync(SseClient.Post("/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}]}"""));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
                Assert.Equal("server_busy", (string?)JsonNode.Parse(await busy.Content.ReadAsStringAsync())!["error"]!["code"]);
                Assert.NotNull(busy.Headers.RetryAfter);
            }
            using var served = await http.SendAsync(SseClient.Post("/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"""));
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
        finally
        {
            await running.DisposeAsync();
            runner.Dispose();
        }
    }

    private async Task<JsonNode> ExpectErrorAsync(string path, string body, HttpStatusCode status)
    {
        using var response = await server.Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(text)!["error"]!;
    }
}
