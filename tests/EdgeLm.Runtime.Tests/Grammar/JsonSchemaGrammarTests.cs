using EdgeLm.Runtime.Grammar;
using EdgeLm.Runtime.Grammar.Json;

namespace EdgeLm.Runtime.Tests.Grammar;

/// <summary>JSON Schema to grammar: hand-written texts the grammar must accept or refuse.</summary>
public class JsonSchemaGrammarTests
{
    private static void Check(string schema, string[] accepted, string[] refused)
    {
        var grammar = JsonSchemaGrammar.FromSchema(schema);
        foreach (string text in accepted)
        {
            Assert.True(grammar.Matches(text), $"should accept {text}\n{grammar.Source}");
            Assert.Empty(JsonSchemaValidator.Validate(schema, text)); // and the validator agrees
        }
        foreach (string text in refused)
            Assert.False(grammar.Matches(text), $"should refuse {text}\n{grammar.Source}");
    }

    [Fact]
    public void ObjectsKeepSchemaOrderRequireRequiredAndMaySkipOptional() => Check(
        """{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},"required":["b"]}""",
        ["""{"b":"x"}""", """{"a":1,"b":"x"}""", """{"b":"x","c":true}""", """{"a":-5,"b":"","c":false}""",
         "{ \"a\" : 1 ,\n  \"b\":\"x\" }"],
        ["{}", """{"a":1}""", """{"b":"x","a":1}""", """{"b":"x","d":1}""", """{"b":"x",}""", """{"b":"x""", """{"b":1}""",
         """{"a":1,,"b":"x"}"""]);

    [Fact]
    public void AnObjectOfOnlyOptionalPropertiesMayBeEmpty() => Check(
        """{"properties":{"x":{"type":"null"},"y":{"const":7}}}""",
        ["{}", """{"x":null}""", """{"y":7}""", """{"x":null,"y":7}"""],
        ["""{"y":7,"x":null}""", """{"y":8}""", """{,"y":7}"""]);

    [Fact]
    public void EnumsAndConstsAreExactValues() => Check(
        """{"type":"object","properties":{"e":{"enum":["red","gr\"een",3,null,{"k":[1]}]},"c":{"const":"é\n"}},"required":["e","c"]}""",
        ["""{"e":"red","c":"é\n"}""", """{"e":"gr\"een","c":"é\n"}""", """{"e":3,"c":"é\n"}""", """{"e":null,"c":"é\n"}""", """{"e":{"k":[1]},"c":"é\n"}"""],
        ["""{"e":"blue","c":"é\n"}""", """{"e":"red","c":"e\n"}""", """{"e":4,"c":"é\n"}"""]);

    [Fact]
    public void ArraysHonourItemCounts() => Check(
        """{"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":3}""",
        ["[1]", "[1,2]", "[1, 2, 3]", "[ 0 ]"],
        ["[]", "[1,2,3,4]", "[1,]", "[\"a\"]", "[1 2]"]);

    [Theory]
    [InlineData("""{"type":"array","maxItems":0}""", "[]", "[1]")]
    [InlineData("""{"type":"array","minItems":2}""", "[1,\"a\"]", "[1]")]
    [InlineData("""{"type":"array","maxItems":1}""", "[]", "[1,2]")]
    [InlineData("""{"type":"array","items":{"type":"array","items":{"type":"null"},"minItems":1}}""", "[[null],[null,null]]", "[[]]")]
    public void ArrayEdgeCases(string schema, string accepted, string refused) => Check(schema, [accepted], [refused]);

    [Fact]
    public void StringLengthsCountCodePointsAndEscapes() => Check(
        """{"type":"string","minLength":2,"maxLength":3}""",
        ["\"ab\"", "\"abc\"", "\"é😀\"", "\"\\n\\u00e9\"", "\"a\\\"\""],
        ["\"a\"", "\"abcd\"", "\"😀\"", "\"\\ud83d\\ude00\"", "\"a\nb\"", "\"\\x41b\""]);

    [Fact]
    public void StringsRefuseRawControlCharactersAndLoneSurrogateEscapes() => Check(
        """{"type":"string"}""",
        ["\"\"", "\"tab\\tok\"", "\"\\u0041\"", "\"\\uE000\""],
        ["\"a\tb\"", "\"\\uD800\"", "\"unterminated", "\"\\q\""]);

    [Theory]
    [InlineData(-123, 456)]
    [InlineData(0, 0)]
    [InlineData(7, 7)]
    [InlineData(-50, -3)]
    [InlineData(1, 1000)]
    [InlineData(99, 101)]
    [InlineData(-1000, 0)]
    public void IntegerRangesMatchExactlyTheirMembers(int low, int high)
    {
        var grammar = JsonSchemaGrammar.FromSchema($$"""{"type":"integer","minimum":{{low}},"maximum":{{high}}}""");
        for (int v = -1200; v <= 1200; v++)
            Assert.Equal(v >= low && v <= high, grammar.Matches(v.ToString()));
        Assert.False(grammar.Matches("007"));
        Assert.False(grammar.Matches("-0"));
        Assert.False(grammar.Matches("1.5"));
    }

    [Fact]
    public void RandomIntegerRangesAgreeWithArithmetic()
    {
        var random = new Random(3);
        for (int trial = 0; trial < 60; trial++)
        {
            long low = (long)(Math.Pow(10, random.Next(0, 7)) * (random.NextDouble() - 0.5));
            long high = low + (long)(Math.Pow(10, random.Next(0, 7)) * random.NextDouble());
            var grammar = JsonSchemaGrammar.FromSchema($$"""{"type":"integer","minimum":{{low}},"maximum":{{high}}}""");
            foreach (long v in new[] { low - 1, low, low + 1, high - 1, high, high + 1, (low + high) / 2, random.NextInt64(low - 10, high + 10) })
                Assert.True((v >= low && v <= high) == grammar.Matches(v.ToString()), $"[{low}, {high}] and {v}");
        }
    }

    [Fact]
    public void OneSidedIntegerBoundsAndExclusiveBounds()
    {
        Check("""{"type":"integer","minimum":10}""", ["10", "11", "99999", "9999999999999999"], ["9", "-1", "0"]);
        Check("""{"type":"integer","maximum":-2}""", ["-2", "-3", "-9999999999999999"], ["-1", "0", "5"]);
        Check("""{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":3}""", ["1", "2"], ["0", "3"]);
        Check("""{"type":"integer","minimum":0.5,"maximum":2.5}""", ["1", "2"], ["0", "3"]);
    }

    [Fact]
    public void BoundedNumbersStayInTheirRange() => Check(
        """{"type":"number","minimum":-2,"maximum":3}""",
        ["-2", "-1.99", "-0.5", "0", "0.25", "2.999", "3", "-1"],
        ["-2.01", "-3", "3.01", "3.0", "4", "1e0", "-2.5"]);

    [Fact]
    public void NumbersWithOneBound()
    {
        Check("""{"type":"number","minimum":1.5}""", ["2", "2.5", "100.01"], ["1", "1.9", "0.5", "-3"]);
        Check("""{"type":"number","exclusiveMaximum":0}""", ["-1", "-0.5", "-1234.5", "-0.001"], ["0", "-0", "0.5", "-0.5e1"]);
        Check("""{"type":"number","exclusiveMinimum":0}""", ["0.5", "0.01", "1", "3.25"], ["0", "-0", "-0.5"]);
        Check("""{"type":"number","exclusiveMinimum":-1,"exclusiveMaximum":1}""", ["0", "0.5", "-0.5", "-0.999"], ["1", "-1", "1.5"]);
        Check("""{"type":"number","minimum":2,"exclusiveMaximum":2.5}""", ["2"], ["2.1", "1.5", "3"]);
    }

    [Fact]
    public void PlainNumbersAllowFractionsAndExponents() => Check(
        """{"type":"number"}""", ["0", "-0", "1.5", "-2.25e-3", "6E+10", "1234567890123456"],
        ["01", "1.", ".5", "+1", "1e", "12345678901234567", "NaN"]);

    [Fact]
    public void RecursiveReferencesThroughDefs() => Check(
        """{"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v"]}}}""",
        ["""{"v":1}""", """{"v":1,"kids":[]}""", """{"v":1,"kids":[{"v":2,"kids":[{"v":3}]},{"v":4}]}"""],
        ["""{"kids":[]}""", """{"v":1,"kids":[{}]}"""]);

    [Fact]
    public void DefinitionsAndRootReferences() => Check(
        """{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]},"name":{"$ref":"#/definitions/name"}},"required":["next"],"definitions":{"name":{"type":"string","maxLength":2}}}""",
        ["""{"next":null}""", """{"next":{"next":null,"name":"ab"}}"""],
        ["""{"next":{"name":"ab"}}""", """{"next":null,"name":"abc"}"""]);

    [Fact]
    public void AnyOfOneOfAndTypeLists()
    {
        Check("""{"anyOf":[{"type":"string","maxLength":1},{"type":"integer","minimum":5}]}""", ["\"a\"", "5", "70"], ["\"ab\"", "4", "null"]);
        Check("""{"oneOf":[{"type":"boolean"},{"type":"null"}]}""", ["true", "null"], ["0"]);
        Check("""{"type":["string","null"]}""", ["\"x\"", "null"], ["1", "[]"]);
        Check("""{"allOf":[{"type":"boolean"}]}""", ["false"], ["1"]);
    }

    [Fact]
    public void GenericObjectsAndValues()
    {
        Check("""{"type":"object"}""", ["{}", """{"a":[1,{"b":null}],"c":"d"}"""], ["[]", "1", """{"a"}"""]);
        Check("{}", ["1", "[true,false]", "\"s\"", """{"x":{"y":[]}}""", "null"], ["nul", "[1,]"]);
        Check("""{"type":"object","additionalProperties":{"type":"integer"}}""", ["{}", """{"a":1,"b":2}"""], ["""{"a":"x"}"""]);
        Check("""{"type":"object","additionalProperties":false}""", ["{}", "{ }"], ["""{"a":1}"""]);
        Assert.True(GbnfGrammar.Parse(JsonSchemaGrammar.JsonObjectGbnf).Matches("""{"k":[1,2.5,"x"]}"""));
        Assert.False(GbnfGrammar.Parse(JsonSchemaGrammar.JsonObjectGbnf).Matches("[1]"));
    }

    [Fact]
    public void WhitespaceIsBounded()
    {
        var grammar = JsonSchemaGrammar.FromSchema("""{"type":"array"}""");
        Assert.True(grammar.Matches("[\n" + new string(' ', 20) + "1]"));
        Assert.False(grammar.Matches("[\n" + new string(' ', 21) + "1]"));
        Assert.False(grammar.Matches("[  1]"));
        Assert.False(grammar.Matches("[\n\n1]"));
    }

    [Theory]
    [InlineData("""{"type":"string","pattern":"^a+$"}""", "'pattern' is not supported")]
    [InlineData("""{"properties":{"a":{}},"required":["b"],"additionalProperties":false}""", "required property 'b' is neither declared")]
    [InlineData("""{"type":"string","enum":[1,2]}""", "no 'enum' value is of the schema's 'type'")]
    [InlineData("""{"type":"integer","const":1.5}""", "'const' is not of the schema's 'type'")]
    [InlineData("""{"$ref":"https://example.com/s.json"}""", "outside this document")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "does not resolve")]
    [InlineData("""{"allOf":[{"type":"string"},{"maxLength":3}]}""", "'allOf' with more than one")]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4}""", "no integer")]
    [InlineData("""{"type":"array","minItems":3,"maxItems":2}""", "below 'minItems'")]
    [InlineData("""{"type":"array","uniqueItems":true}""", "uniqueItems")]
    [InlineData("""{"type":"date"}""", "unknown type 'date'")]
    [InlineData("""{"enum":[]}""", "non-empty")]
    [InlineData("""{"type":"object","properties":{"x":{"multipleOf":2}}}""", "#/properties/x: 'multipleOf'")]
    [InlineData("""false""", "allows no value")]
    [InlineData("""{"type":"string",""", "not valid JSON")]
    [InlineData("""{"$ref":"#/$defs/a","$defs":{"a":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"}]}}}""", "Left recursion")]
    public void UnsupportedSchemasAreRefusedClearly(string schema, string message)
    {
        var e = Assert.Throws<GrammarException>(() => JsonSchemaGrammar.FromSchema(schema));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void OpenObjectsWithPropertiesAreWrittenClosed() => Check(
        """{"type":"object","properties":{"a":{"type":"integer"}},"additionalProperties":true}""",
        ["{}", """{"a":1}"""], ["""{"a":1,"b":2}"""]);

    [Fact]
    public void RequiredNamesOutsidePropertiesFollowWithAnyValue()
    {
        Check("""{"type":"object","properties":{"a":{"type":"integer"}},"required":["b"]}""",
            ["""{"b":null}""", """{"a":1,"b":[true]}"""], ["{}", """{"b":1,"a":1}"""]);
        Check("""{"type":"object","required":["n"],"additionalProperties":{"type":"integer"}}""",
            ["""{"n":3}"""], ["""{"n":"x"}""", "{}"]);
    }

    [Fact]
    public void EnumValuesOfAnotherTypeAreLeftOut() => Check(
        """{"type":["string","null"],"enum":["a",1,null,true]}""", ["\"a\"", "null"], ["1", "true"]);

    [Fact]
    public void APydanticStyleSchema() => Check(
        """
        {"$defs":{"Color":{"enum":["red","green"],"title":"Color","type":"string"}},
         "properties":{"name":{"title":"Name","type":"string"},"color":{"$ref":"#/$defs/Color"},
                       "size":{"anyOf":[{"type":"integer"},{"type":"null"}],"default":null,"title":"Size"},
                       "tags":{"items":{"type":"string"},"title":"Tags","type":"array"}},
         "required":["name","color"],"title":"Item","type":"object"}
        """,
        ["""{"name":"x","color":"red"}""", """{"name":"x","color":"green","size":null,"tags":["a"]}""", """{"name":"","color":"red","size":3}"""],
        ["""{"name":"x","color":"blue"}""", """{"color":"red"}""", """{"name":"x","color":"red","size":"3"}"""]);

    [Fact]
    public void AnnotationsAndUnknownKeywordsAreIgnored() => Check(
        """{"title":"T","description":"d","x-custom":1,"type":"string","format":"date-time","default":"a","examples":["b"]}""",
        ["\"anything\""], ["1"]);

    [Fact]
    public void RuleNamesFollowThePropertyPaths()
    {
        string gbnf = JsonSchemaGrammar.ToGbnf("""{"type":"object","properties":{"home address":{"type":"object","properties":{"street":{"type":"string","maxLength":5}}}}}""");
        Assert.Contains("root-home-address ::=", gbnf);
        Assert.Contains("root-home-address-street-kv ::=", gbnf);
        Assert.StartsWith("root ::= ", gbnf);
    }
}
