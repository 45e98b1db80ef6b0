namespace EdgeLm.Tokenizers.ChatTemplates;

/// <summary>Built-in chat templates.</summary>
public static class ChatTemplates
{
    /// <summary>
    /// The template EdgeLm uses for a model that has none: ChatML (<c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>
    /// per message, then <c>&lt;|im_start|&gt;assistant\n</c> when a generation prompt is asked for). A list of
    /// content parts is joined from its text parts; assistant tool calls are written as
    /// <c>&lt;tool_call&gt;\n{"name": ..., "arguments": ...}\n&lt;/tool_call&gt;</c> blocks (Hermes / Qwen style); tool
    /// results keep the role "tool". Tool definitions are not written (put them in the system message if needed).
    /// No BOS token is added. The same text is tests/fixtures/chat-templates/edgelm-default.jinja, whose goldens
    /// come from Hugging Face's engine.
    /// </summary>
    public const string DefaultSource =
        """
        {#- EdgeLm default chat template: ChatML (<|im_start|>role\ncontent<|im_end|>\n), for models without a template.
            Content may be a string or a list of parts (text parts are joined); assistant tool calls are written as
            <tool_call> JSON blocks (Hermes/Qwen style); tool results keep the role "tool". -#}
        {%- for message in messages -%}
            {%- if message.content is string -%}
                {%- set content = message.content -%}
            {%- elif message.content is iterable -%}
                {%- set parts = namespace(text='') -%}
                {%- for part in message.content -%}
                    {%- if part.type == 'text' -%}
                        {%- set parts.text = parts.text ~ part.text -%}
                    {%- endif -%}
                {%- endfor -%}
                {%- set content = parts.text -%}
            {%- else -%}
                {%- set content = '' -%}
            {%- endif -%}
            {{- '<|im_start|>' ~ message.role ~ '\n' ~ content -}}
            {%- if message.tool_calls -%}
                {%- for call in message.tool_calls -%}
                    {%- set fn = call.function if call.function is defined else call -%}
                    {%- if content or not loop.first -%}
                        {{- '\n' -}}
                    {%- endif -%}
                    {{- '<tool_call>\n{"name": "' ~ fn.name ~ '", "arguments": ' -}}
                    {{- fn.arguments if fn.arguments is string else fn.arguments | tojson -}}
                    {{- '}\n</tool_call>' -}}
                {%- endfor -%}
            {%- endif -%}
            {{- '<|im_end|>\n' -}}
        {%- endfor -%}
        {%- if add_generation_prompt -%}
            {{- '<|im_start|>assistant\n' -}}
        {%- endif -%}

        """;

    private static readonly Lazy<ChatTemplate> DefaultTemplate = new(() => ChatTemplate.Parse(DefaultSource));

    /// <summary><see cref="DefaultSource"/>, parsed.</summary>
    public static ChatTemplate Default => DefaultTemplate.Value;
}
