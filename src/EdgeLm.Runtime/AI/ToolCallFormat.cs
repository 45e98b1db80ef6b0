using EdgeLm.Tokenizers.ChatTemplates;

namespace EdgeLm.Runtime.AI;

/// <summary>How a model writes tool calls in its output, which decides how EdgeLm parses (and constrains) them.</summary>
public enum ToolCallFormat
{
    /// <summary>
    /// Hermes / Qwen style: each call is <c>&lt;tool_call&gt;{"name": ..., "arguments": {...}}&lt;/tool_call&gt;</c>, with free
    /// text allowed around the blocks. Qwen2.5/Qwen3, Hermes 2/3 and EdgeLm's default ChatML template use it.
    /// </summary>
    Hermes,

    /// <summary>
    /// Llama 3.1+ style: the whole reply is a JSON call <c>{"name": ..., "parameters": {...}}</c> (optionally after
    /// <c>&lt;|python_tag|&gt;</c>; several calls separated by <c>;</c>); any other reply is plain text.
    /// </summary>
    Llama3Json,

    /// <summary>
    /// The fallback for templates that know no tool syntax: EdgeLm describes the tools in a system message and asks
    /// for a bare JSON reply <c>{"name": ..., "arguments": {...}}</c>, parsed like <see cref="Llama3Json"/>.
    /// </summary>
    Generic,
}

/// <summary>Recognises a chat template's tool-call format from its text.</summary>
public static class ToolCallFormats
{
    /// <summary>
    /// The format <paramref name="template"/> writes assistant tool calls in: <see cref="ToolCallFormat.Hermes"/> when
    /// it mentions <c>&lt;tool_call&gt;</c>; <see cref="ToolCallFormat.Llama3Json"/> when it mentions
    /// <c>&lt;|python_tag|&gt;</c> or writes a call's <c>"parameters"</c> with <c>&lt;|eot_id|&gt;</c> turns;
    /// otherwise <see cref="ToolCallFormat.Generic"/>.
    /// </summary>
    public static ToolCallFormat Detect(ChatTemplate template)
    {
        ArgumentNullException.ThrowIfNull(template);
        string source = template.Source;
        if (source.Contains("<tool_call>", StringComparison.Ordinal))
            return ToolCallFormat.Hermes;
        if (source.Contains("<|python_tag|>", StringComparison.Ordinal)
            || (source.Contains("<|eot_id|>", StringComparison.Ordinal) && source.Contains("\"parameters\"", StringComparison.Ordinal)))
            return ToolCallFormat.Llama3Json;
        return ToolCallFormat.Generic;
    }
}
