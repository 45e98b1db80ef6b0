using System.Text.Json.Nodes;

namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>
/// A tool call made by the assistant, in the OpenAI / Hugging Face shape:
/// <c>{"id": ..., "type": "function", "function": {"name": ..., "arguments": ...}}</c>.
/// </summary>
/// <param name="Name">The function name.</param>
/// <param name="Arguments">The arguments: a JSON object, or a string holding JSON (both occur in practice; templates
/// usually write an object with <c>tojson</c> and a string as it is).</param>
/// <param name="Id">The call id (some templates require one, e.g. Mistral's nine-character ids), or null.</param>
public sealed record ChatToolCall(string Name, JsonNode? Arguments, string? Id = null)
{
    /// <summary>The call as the JSON object templates read.</summary>
    public JsonObject ToJson()
    {
        var call = new JsonObject();
        if (Id is not null) call["id"] = Id;
        call["type"] = "function";
        call["function"] = new JsonObject { ["name"] = Name, ["arguments"] = Arguments?.DeepClone() };
        return call;
    }
}

/// <summary>
/// Everything a chat template is rendered with, mirroring what transformers' <c>apply_chat_template</c> passes:
/// <c>messages</c>, <c>tools</c> (none when absent), <c>add_generation_prompt</c>, <c>bos_token</c> /
/// <c>eos_token</c> (undefined when null), and any extra variables such as <c>enable_thinking</c>.
/// Messages and tools are JSON, so any shape a template expects passes through unchanged; the <c>Add*</c> builders
/// cover the common ones.
/// </summary>
public sealed class ChatTemplateContext
{
    /// <summary>The conversation: objects with <c>role</c> and <c>content</c> (a string or a list of parts such as
    /// <c>{"type": "text", "text": ...}</c>), and optionally <c>tool_calls</c>, <c>tool_call_id</c>, <c>name</c>,
    /// <c>reasoning_content</c>, ...</summary>
    public JsonArray Messages { get; init; } = [];

    /// <summary>Tool definitions (usually <c>{"type": "function", "function": {name, description, parameters}}</c>
    /// with a JSON Schema), or null for none: the template then sees <c>tools</c> as none.</summary>
    public JsonArray? Tools { get; set; }

    /// <summary>Whether to end with the opening of an assistant turn.</summary>
    public bool AddGenerationPrompt { get; set; }

    /// <summary>The model's beginning-of-sequence token text, or null to leave <c>bos_token</c> undefined.</summary>
    public string? BosToken { get; set; }

    /// <summary>The model's end-of-sequence token text, or null to leave <c>eos_token</c> undefined.</summary>
    public string? EosToken { get; set; }

    /// <summary>Extra template variables (e.g. <c>enable_thinking</c>, <c>date_string</c>). A name already used by
    /// the ones above or by a global (<c>range</c>, <c>namespace</c>, ...) makes <see cref="ChatTemplate.Render"/>
    /// throw.</summary>
    public IDictionary<string, JsonNode?> Variables { get; } = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);

    /// <summary>The clock behind <c>strftime_now</c> (local time). Inject a fixed one for reproducible prompts.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Appends <c>{"role": role, "content": content}</c>.</summary>
    public ChatTemplateContext AddMessage(string role, string content)
    {
        Messages.Add(new JsonObject { ["role"] = role, ["content"] = content });
        return this;
    }

    /// <summary>Appends a message of any shape.</summary>
    public ChatTemplateContext AddMessage(JsonObject message)
    {
        Messages.Add(message);
        return this;
    }

    /// <summary>Appends an assistant message carrying tool calls; <paramref name="content"/> may be null (written
    /// as JSON null, which some templates reject, so prefer "" unless the template expects null).</summary>
    public ChatTemplateContext AddToolCalls(string? content, params ChatToolCall[] calls)
    {
        var list = new JsonArray();
        foreach (var call in calls) list.Add(call.ToJson());
        Messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = content, ["tool_calls"] = list });
        return this;
    }

    /// <summary>Appends a tool result: <c>{"role": "tool", "tool_call_id"?, "name"?, "content"}</c>.</summary>
    public ChatTemplateContext AddToolResult(string content, string? toolCallId = null, string? name = null)
    {
        var message = new JsonObject { ["role"] = "tool" };
        if (toolCallId is not null) message["tool_call_id"] = toolCallId;
        if (name is not null) message["name"] = name;
        message["content"] = content;
        Messages.Add(message);
        return this;
    }

    /// <summary>Offers a function tool: <c>{"type": "function", "function": {name, description, parameters}}</c>,
    /// <paramref name="parameters"/> being its JSON Schema.</summary>
    public ChatTemplateContext AddTool(string name, string description, JsonObject parameters)
    {
        Tools ??= [];
        Tools.Add(new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject { ["name"] = name, ["description"] = description, ["parameters"] = parameters.DeepClone() },
        });
        return this;
    }

    /// <summary>Sets an extra variable, e.g. <c>SetVariable("enable_thinking", false)</c>.</summary>
    public ChatTemplateContext SetVariable(string name, JsonNode? value)
    {
        Variables[name] = value;
        return this;
    }

    /// <summary>
    /// Reads a context from JSON shaped like the test cases: <c>{"messages": [...], "tools": [...]?,
    /// "add_generation_prompt": bool?, "bos_token": string?, "eos_token": string?, "variables": {...}?}</c>.
    /// </summary>
    public static ChatTemplateContext FromJson(JsonObject json)
    {
        var context = new ChatTemplateContext
        {
            Messages = json["messages"] switch
            {
                JsonArray messages => (JsonArray)messages.DeepClone(),
                null => [],
                _ => throw new ArgumentException("\"messages\" must be an array.", nameof(json)),
            },
            Tools = json["tools"] switch
            {
                JsonArray tools => (JsonArray)tools.DeepClone(),
                null => null,
                _ => throw new ArgumentException("\"tools\" must be an array or null.", nameof(json)),
            },
            AddGenerationPrompt = json["add_generation_prompt"]?.GetValue<bool>() ?? false,
            BosToken = json["bos_token"]?.GetValue<string>(),
            EosToken = json["eos_token"]?.GetValue<string>(),
        };
        if (json["variables"] is JsonObject variables)
        {
            foreach (var (name, value) in variables) context.Variables[name] = value?.DeepClone();
        }
        return context;
    }
}
