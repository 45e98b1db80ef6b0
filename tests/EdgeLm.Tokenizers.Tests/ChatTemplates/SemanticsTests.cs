using System.Text.Json.Nodes;
using EdgeLm.Tokenizers.ChatTemplates;

namespace EdgeLm.Tokenizers.Tests.ChatTemplates;

/// <summary>
/// The expression and statement semantics a chat template relies on, one behaviour per case. Where Hugging Face's
/// engine departs from Python Jinja, the expected value is the Hugging Face one (the snippet goldens check the same
/// behaviours against the engine itself).
/// </summary>
public class SemanticsTests
{
    private static string Render(string source, Action<ChatTemplateContext>? setup = null)
    {
        var context = new ChatTemplateContext { Clock = FixedClock.GoldenInstant };
        setup?.Invoke(context);
        return ChatTemplate.Parse(source).Render(context);
    }

    [Theory]
    [InlineData("0", "F")]
    [InlineData("0.0", "F")]
    [InlineData("''", "F")]
    [InlineData("[]", "F")]
    [InlineData("{}", "F")]
    [InlineData("none", "F")]
    [InlineData("undefined_name", "F")]
    [InlineData("1", "T")]
    [InlineData("'0'", "T")]
    [InlineData("[0]", "T")]
    [InlineData("{'a': 0}", "T")]
    [InlineData("namespace()", "T")]
    public void TruthinessIsPythonLike(string expression, string expected) =>
        Assert.Equal(expected, Render($"{{{{ 'T' if {expression} else 'F' }}}}"));

    [Theory]
    [InlineData("7 / 2", "3.5")]
    [InlineData("6 / 2", "3.0")]
    [InlineData("7 // 2", "3")]
    [InlineData("-7 // 2", "-4")]
    [InlineData("7.0 // 2", "3.0")]
    [InlineData("7 % 3", "1")]
    [InlineData("-7 % 3", "-1")]
    [InlineData("2 ** 10", "1024")]
    [InlineData("2 ** -1", "0.5")]
    [InlineData("1 + 2.0", "3.0")]
    [InlineData("0.1 + 0.2", "0.30000000000000004")]
    [InlineData("10 ** 21", "1e+21")]
    public void IntegerAndFloatArithmetic(string expression, string expected) =>
        Assert.Equal(expected, Render($"{{{{ {expression} }}}}"));

    [Fact]
    public void StringEscapesAreDecoded() =>
        Assert.Equal("a\nb\tc\\d'e\"f|A\u00e9", Render(@"{{ 'a\nb\tc\\d\'e\""f' }}|{{ '\x41\u00e9' }}"));

    [Fact]
    public void UnknownEscapeIsASyntaxError()
    {
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(@"{{ 'a\qb' }}"));
        Assert.Equal(ChatTemplateErrorKind.Syntax, ex.Kind);
        Assert.Contains("q", ex.Reason);
    }

    [Theory]
    [InlineData("items[0]", "a")]
    [InlineData("items[-1]", "d")]
    [InlineData("items[-4]", "a")]
    [InlineData("items[9]", "")]
    [InlineData("items[-9]", "")]
    [InlineData("word[-2]", "j")]
    [InlineData("word[-1]", "a")]
    [InlineData("items.1", "b")]
    public void IndexesCountFromTheEndWhenNegative(string expression, string expected) =>
        Assert.Equal(expected, Render($"{{{{ {expression} }}}}", c => c
            .SetVariable("items", new JsonArray("a", "b", "c", "d"))
            .SetVariable("word", "jinja")));

    [Theory]
    [InlineData("items[::-1]|join", "dcba")]
    [InlineData("items[1:3]|join", "bc")]
    [InlineData("items[:-1]|join", "abc")]
    [InlineData("items[::2]|join", "ac")]
    [InlineData("items[-2:]|join", "cd")]
    [InlineData("items[5:]|length", "0")]
    [InlineData("word[::-1]", "😀olleh")]
    [InlineData("word[1:3]", "el")]
    public void SlicingFollowsPython(string expression, string expected) =>
        Assert.Equal(expected, Render($"{{{{ {expression} }}}}", c => c
            .SetVariable("items", new JsonArray("a", "b", "c", "d"))
            .SetVariable("word", "hello😀")));

    [Fact]
    public void LoopVariables() =>
        Assert.Equal("1/0/3/true/false;2/1/2/false/false;3/2/1/false/true;",
            Render("{% for x in [10, 20, 30] %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.first }}/{{ loop.last }};{% endfor %}"));

    [Fact]
    public void LoopOverMappingItemsWithTupleUnpacking() =>
        Assert.Equal("city=Paris,unit=C,", Render("{% for k, v in args.items() %}{{ k }}={{ v }},{% endfor %}",
            c => c.SetVariable("args", new JsonObject { ["city"] = "Paris", ["unit"] = "C" })));

    [Fact]
    public void LoopElseAndInlineFilter() =>
        Assert.Equal("none|24", Render("{% for x in [] %}x{% else %}none{% endfor %}|{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{% endfor %}"));

    [Fact]
    public void SetInsideLoopDoesNotLeakButNamespaceDoes() =>
        Assert.Equal("0|3", Render("{% set n = 0 %}{% set ns = namespace(n=0) %}{% for i in [1, 2] %}{% set n = n + i %}{% set ns.n = ns.n + i %}{% endfor %}{{ n }}|{{ ns.n }}"));

    [Fact]
    public void MacrosTakeDefaultsAndKeywords() =>
        Assert.Equal("<a|x><b|y>", Render("{% macro tag(name, v='x') %}<{{ name }}|{{ v }}>{% endmacro %}{{ tag('a') }}{{ tag(v='y', name='b') }}"));

    [Fact]
    public void DashesTrimWhitespaceOnTheirSide() =>
        Assert.Equal("[a][b]  [c]", Render("[a]  {{- '[b]' }}  {{ '[c]' -}}  \n  "));

    [Fact]
    public void BlocksTrimTheirNewlineAndIndentation() =>
        Assert.Equal("start\nline\n    {{ kept }}\nend", Render("start\n{% if true %}\n    {% set x = 1 %}\nline\n{% endif %}\n    {{ '{{ kept }}' }}\nend\n"));

    [Fact]
    public void TrueAndNonePrintTheReferenceWay() =>
        Assert.Equal("true|false||", Render("{{ true }}|{{ false }}|{{ none }}|{{ missing }}"));

    [Fact]
    public void EqualityIsLoose() =>
        Assert.Equal("true true true false", Render("{{ 1 == 1.0 }} {{ 1 == '1' }} {{ none == missing }} {{ [1] == [1] }}"));

    [Fact]
    public void StripIgnoresItsArgumentAsTheReferenceDoes() =>
        Assert.Equal("[x]", Render(@"[{{ '\n  x \n'.strip('\n') }}]"));

    [Fact]
    public void ToJsonUsesPythonSpacingAndKeepsNonAscii() =>
        Assert.Equal("{\"a\": [1, 2.5, \"é\"], \"b\": null}|{\n  \"a\": 1\n}",
            Render("{{ {'a': [1, 2.5, 'é'], 'b': none}|tojson }}|{{ {'a': 1.0}|tojson(indent=2) }}"));

    [Fact]
    public void StrftimeNowReadsTheInjectedClockInItsTimeZone()
    {
        var tokyoEvening = new ZonedClock(new DateTimeOffset(2025, 1, 31, 20, 30, 0, TimeSpan.Zero), TimeSpan.FromHours(9));
        string text = ChatTemplate.Parse("{{ strftime_now('%d %b %Y %H:%M') }}").Render(new ChatTemplateContext { Clock = tokyoEvening });
        Assert.Equal("01 Feb 2025 05:30", text);
    }

    [Fact]
    public void RangeAndDictExtension() =>
        Assert.Equal("[0, 2, 4]|{\"a\": 1, \"b\": 2}", Render("{{ range(0, 6, 2) }}|{{ dict({'a': 1}, b=2) }}"));

    [Fact]
    public void FilterExtensionsBeyondTheReference() =>
        Assert.Equal("3|2.5|3.0|&lt;b&gt;", Render("{{ [1, 2, 3]|count }}|{{ 2.45|round(1) }}|{{ 2.5|round }}|{{ '<b>'|escape }}"));

    private sealed class ZonedClock(DateTimeOffset utcNow, TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => utcNow;
        public override TimeZoneInfo LocalTimeZone { get; } = TimeZoneInfo.CreateCustomTimeZone("test", offset, "test", "test");
    }
}
