using System.Text.Json;

namespace EdgeLm.Runtime.Grammar.Json;

/// <summary>
/// Converts a JSON Schema to a GBNF grammar whose sentences are JSON texts valid under the schema.
/// </summary>
/// <remarks>
/// <para>Supported: <c>type</c> (one or a list), <c>properties</c>/<c>required</c>, <c>enum</c>, <c>const</c>,
/// <c>items</c> with <c>minItems</c>/<c>maxItems</c>, <c>minLength</c>/<c>maxLength</c> (code points),
/// <c>minimum</c>/<c>maximum</c>/<c>exclusiveMinimum</c>/<c>exclusiveMaximum</c>, <c>anyOf</c>, <c>oneOf</c>,
/// single-schema <c>allOf</c>, <c>$ref</c> to <c>#</c>, <c>#/$defs/...</c> and <c>#/definitions/...</c> (recursion
/// allowed through objects and arrays), <c>additionalProperties</c> as a schema for objects without
/// <c>properties</c>, and <c>true</c>/<c>{}</c>/<c>{"type":"object"}</c> as any JSON value/object.
/// Annotations (<c>title</c>, <c>description</c>, <c>default</c>, <c>examples</c>, <c>format</c>, ...) are ignored;
/// unknown keywords too, as JSON Schema prescribes.</para>
/// <para>Choices made for determinism and termination: an object with <c>properties</c> is closed (as if
/// <c>additionalProperties: false</c>, whatever it says: a closed object is valid under an open schema too) and its
/// properties come in schema order, required ones always, optional ones possibly left out; <c>required</c> names that
/// <c>properties</c> does not declare follow them, with any value (or the <c>additionalProperties</c> schema).
/// <c>enum</c>/<c>const</c> values of another type than a <c>type</c> beside them are left out. Whitespace is bounded (one space, or a line
/// break and at most 20 spaces or tabs, between tokens). Unbounded integer parts have at most 16 digits, fractions at
/// most 15, exponents at most 3. Numbers with bounds use integral bounds (a non-integral bound is rounded inward, an
/// exclusive bound moves to the next integer inward) and are written without exponent. <c>oneOf</c> is matched like
/// <c>anyOf</c>: its branches must not overlap for the output to be valid (branches of different types never do).</para>
/// <para>Refused with a <see cref="GrammarException"/>: <c>pattern</c>, <c>patternProperties</c>,
/// <c>multipleOf</c>, <c>uniqueItems: true</c>, <c>prefixItems</c>, <c>not</c>, <c>if</c>, <c>minProperties</c> and the
/// other validation keywords not listed above, <c>$ref</c>s outside the document, and schemas no value can satisfy.</para>
/// </remarks>
public static class JsonSchemaGrammar
{
    /// <summary>GBNF for any JSON object: the <c>json_object</c> response format.</summary>
    public static string JsonObjectGbnf { get; } = ToGbnf("""{"type":"object"}""");

    /// <summary>The GBNF for <paramref name="schemaJson"/>, a JSON Schema as text.</summary>
    /// <exception cref="GrammarException">The text is not JSON, or the schema uses something unsupported.</exception>
    public static string ToGbnf(string schemaJson)
    {
        ArgumentNullException.ThrowIfNull(schemaJson);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(schemaJson);
        }
        catch (JsonException e)
        {
            throw new GrammarException($"The schema is not valid JSON: {e.Message}");
        }
        using (document)
            return ToGbnf(document.RootElement);
    }

    /// <summary>The GBNF for a parsed JSON Schema.</summary>
    /// <exception cref="GrammarException">The schema uses something unsupported.</exception>
    public static string ToGbnf(JsonElement schema) => JsonSchemaConverter.Convert(schema);

    /// <summary>The compiled grammar for <paramref name="schemaJson"/>.</summary>
    public static GbnfGrammar FromSchema(string schemaJson) => GbnfGrammar.Parse(ToGbnf(schemaJson));

    /// <summary>The compiled grammar for a parsed JSON Schema.</summary>
    public static GbnfGrammar FromSchema(JsonElement schema) => GbnfGrammar.Parse(ToGbnf(schema));
}
