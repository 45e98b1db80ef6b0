using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeLm.Tokenizers.ChatTemplates;
using Microsoft.Extensions.AI;

namespace EdgeLm.Runtime.AI;

/// <summary>
/// Turns a Microsoft.Extensions.AI conversation (messages, instructions, tools) into prompt text through a model's
/// chat template. Tools go to the template when it writes them; for a template that ignores tools (EdgeLm's default
/// ChatML, or an older model's), they are described in a system message together with the reply shape of
/// <see cref="ToolCallFormat"/>. Immutable and thread-safe.
/// </summary>
public sealed class ChatPromptFormatter
{
    private const string ProbeToolName = "edgelm_probe_tool";

    /// <summary>Microsoft.Extensions.AI's serializer settings, written compactly (tool results go into prompts).</summary>
    internal static readonly JsonSerializerOptions CompactJson = new(AIJsonUtilities.DefaultOptions) { WriteIndented = false };

    /// <summary>Creates a formatter for <paramref name="template"/>.</summary>
    /// <param name="template">The chat template.</param>
    /// <param name="bosToken">The model's BOS text, for templates that write <c>bos_token</c>.</param>
    /// <param name="eosToken">The model's EOS text, for templates that write <c>eos_token</c>.</param>
    /// <param name="format">The tool-call format; detected from the template when null.</param>
    public ChatPromptFormatter(ChatTemplate template, string? bosToken = null, string? eosToken = null, ToolCallFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        Template = template;
        BosToken = bosToken;
        EosToken = eosToken;
        ToolCallFormat = format ?? ToolCallFormats.Detect(template);
        TemplateWritesTools = ProbeWritesTools();
        EndOfTurnTexts = [.. KnownEndOfTurnTexts.Where(t => template.Source.Contains(t, StringComparison.Ordinal))];
    }

    /// <summary>Texts that end an assistant turn in well-known templates; those a template uses are stop sequences.</summary>
    private static readonly string[] KnownEndOfTurnTexts = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>", "</s>", "<|endoftext|>"];

    /// <summary>The chat template.</summary>
    public ChatTemplate Template { get; }

    /// <summary>The BOS text given to the template, or null.</summary>
    public string? BosToken { get; }

    /// <summary>The EOS text given to the template, or null.</summary>
    public string? EosToken { get; }

    /// <summary>How the model writes tool calls.</summary>
    public ToolCallFormat ToolCallFormat { get; }

    /// <summary>Whether the template writes the tool definitions it is given (otherwise EdgeLm describes them).</summary>
    public bool TemplateWritesTools { get; }

    /// <summary>
    /// End-of-turn markers the template writes (e.g. <c>&lt;|im_end|&gt;</c>): used as stop sequences, for models whose
    /// vocabulary does not have them as single end-of-generation tokens.
    /// </summary>
    public IReadOnlyList<string> EndOfTurnTexts { get; }

    /// <summary>
    /// Renders the prompt for <paramref name="messages"/>, ending with the opening of the assistant's turn. Tools in
    /// <paramref name="options"/> are offered unless its tool mode is <see cref="ChatToolMode.None"/>.
    /// </summary>
    /// <exception cref="ChatTemplateException">The template rejected the conversation (for example roles out of order).</exception>
    public string Format(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages.ToList();
        var tools = OfferedTools(options);
        var context = new ChatTemplateContext { AddGenerationPrompt = true, BosToken = BosToken, EosToken = EosToken };

        string? system = options?.Instructions;
        if (tools.Count > 0 && !TemplateWritesTools)
            system = Join(system, DescribeTools(tools, ToolCallFormat));
        if (tools.Count > 0 && TemplateWritesTools)
            context.Tools = [.. tools.Select(ToolDefinition)];

        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        bool systemWritten = system is null;
        foreach (var message in list)
        {
            if (!systemWritten)
            {
                systemWritten = true;
                if (message.Role == ChatRole.System)
                {
                    context.AddMessage("system", Join(system, message.Text));
                    continue;
                }
                context.AddMessage("system", system!);
            }
            AddMessage(context, message, callNames);
        }
        if (!systemWritten)
            context.AddMessage("system", system!);
        return Template.Render(context);
    }

    /// <summary>The tools <paramref name="options"/> offer (none under <see cref="ChatToolMode.None"/>).</summary>
    public static IReadOnlyList<AIFunctionDeclaration> OfferedTools(ChatOptions? options)
    {
        if (options?.Tools is not { Count: > 0 } tools || options.ToolMode is NoneChatToolMode)
            return [];
        return [.. tools.OfType<AIFunctionDeclaration>()];
    }

    /// <summary>A tool as templates read it: <c>{"type": "function", "function": {name, description, parameters}}</c>.</summary>
    public static JsonObject ToolDefinition(AIFunctionDeclaration tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return new JsonObject
        {
            ["type"] = "function",
            ["function"] = new JsonObject
            {
                ["name"] = tool.Name,
                ["description"] = tool.Description ?? "",
                ["parameters"] = JsonNode.Parse(tool.JsonSchema.GetRawText()),
            },
        };
    }

    /// <summary>The system text that offers <paramref name="tools"/> to a template that does not write them.</summary>
    public static string DescribeTools(IReadOnlyList<AIFunctionDeclaration> tools, ToolCallFormat format)
    {
        var text = new StringBuilder("You may call one or more functions to answer. These are the functions, as JSON:\n");
        foreach (var tool in tools)
            text.Append(ToolDefinition(tool).ToJsonString()).Append('\n');
        text.Append(format == ToolCallFormat.Hermes
            ? "To call a function, reply with <tool_call>\n{\"name\": <function-name>, \"arguments\": <arguments-object>}\n</tool_call>"
            : "To call a function, reply with only the JSON object {\"name\": <function-name>, \"arguments\": <arguments-object>}");
        return text.ToString();
    }

    private static void AddMessage(ChatTemplateContext context, ChatMessage message, Dictionary<string, string> callNames)
    {
        string role = message.Role.Value;
        var calls = new List<ChatToolCall>();
        var text = new StringBuilder();
        foreach (var content in message.Contents)
        {
            switch (content)
            {
                case TextContent t:
                    text.Append(t.Text);
                    break;
                case FunctionCallContent call:
                    callNames[call.CallId] = call.Name;
                    calls.Add(new ChatToolCall(call.Name, ArgumentsObject(call.Arguments), call.CallId));
                    break;
                case FunctionResultContent result:
                    // Each result is its own "tool" message, as OpenAI-style templates expect.
                    context.AddToolResult(ResultText(result.Result), result.CallId, callNames.GetValueOrDefault(result.CallId));
                    break;
            }
        }
        if (calls.Count > 0)
            context.AddToolCalls(text.ToString(), [.. calls]);
        else if (text.Length > 0 || !message.Contents.OfType<FunctionResultContent>().Any())
            context.AddMessage(role, text.ToString());
    }

    private static JsonObject ArgumentsObject(IDictionary<string, object?>? arguments)
    {
        if (arguments is null)
            return [];
        return JsonSerializer.SerializeToNode(arguments, CompactJson) as JsonObject ?? [];
    }

    /// <summary>A tool result as text: strings as they are, anything else as JSON.</summary>
    public static string ResultText(object? result) => result switch
    {
        null => "",
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString()!,
        JsonElement e => e.GetRawText(),
        _ => JsonSerializer.Serialize(result, CompactJson),
    };

    private static string Join(string? first, string second) =>
        string.IsNullOrEmpty(first) ? second : string.IsNullOrEmpty(second) ? first : first + "\n\n" + second;

    private bool ProbeWritesTools()
    {
        try
        {
            var context = new ChatTemplateContext { AddGenerationPrompt = true, BosToken = BosToken, EosToken = EosToken }
                .AddMessage("user", "hello")
                .AddTool(ProbeToolName, "probe", new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() });
            return Template.Render(context).Contains(ProbeToolName, StringComparison.Ordinal);
        }
        catch (ChatTemplateException)
        {
            return false;
        }
    }
}
