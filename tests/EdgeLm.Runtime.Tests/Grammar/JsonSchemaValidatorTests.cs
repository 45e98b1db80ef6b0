using EdgeLm.Runtime.Grammar.Json;

namespace EdgeLm.Runtime.Tests.Grammar;

/// <summary>The test validator itself: it must find each kind of violation.</summary>
public class JsonSchemaValidatorTests
{
    [Theory]
    [InlineData("""{"type":"integer"}""", "1.5", "not")]
    [InlineData("""{"type":"integer"}""", "\"1\"", "not")]
    [InlineData("""{"type":"string","maxLength":1}""", "\"é😀\"", "more than 1")]
    [InlineData("""{"type":"string","minLength":3}""", "\"ab\"", "fewer than 3")]
    [InlineData("""{"minimum":2}""", "1.999", "below the minimum")]
    [InlineData("""{"exclusiveMaximum":2}""", "2", "not below")]
    [InlineData("""{"minimum":2,"exclusiveMinimum":true}""", "2", "below the minimum")]
    [InlineData("""{"enum":[1,"a",{"b":[true]}]}""", """{"b":[false]}""", "enum")]
    [InlineData("""{"const":{"a":1,"b":2}}""", """{"a":1}""", "constant")]
    [InlineData("""{"properties":{"a":{}},"required":["a"]}""", "{}", "lacks required property 'a'")]
    [InlineData("""{"properties":{"a":{}}}""", """{"b":1}""", "/b: is not a declared property")]
    [InlineData("""{"items":{"type":"null"},"maxItems":2}""", "[null,null,null]", "more than 2")]
    [InlineData("""{"items":{"type":"null"}}""", "[null,1]", "/1: is Number")]
    [InlineData("""{"oneOf":[{"type":"number"},{"type":"integer"}]}""", "3", "2 branches of oneOf")]
    [InlineData("""{"anyOf":[{"type":"null"},{"type":"boolean"}]}""", "0", "none of anyOf")]
    [InlineData("""{"$ref":"#/$defs/x","$defs":{"x":{"type":"null"}}}""", "1", "not \"null\"")]
    [InlineData("""{"type":"object"}""", "[1", "not JSON")]
    public void FindsTheViolation(string schema, string instance, string message) =>
        Assert.Contains(JsonSchemaValidator.Validate(schema, instance), e => e.Contains(message));

    [Theory]
    [InlineData("""{"type":"integer"}""", "1.0")]
    [InlineData("""{"enum":[1.0]}""", "1")]
    [InlineData("""{"const":{"a":1,"b":2}}""", """{"b":2,"a":1}""")]
    [InlineData("""{"properties":{"a":{}}}""", """{"b":1}""")]
    public void AcceptsValidValues(string schema, string instance) =>
        Assert.Empty(JsonSchemaValidator.Validate(schema, instance, closedObjects: schema != """{"properties":{"a":{}}}"""));
}
