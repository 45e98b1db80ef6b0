using EdgeLm.Tokenizers.ChatTemplates;

namespace EdgeLm.Tokenizers.Tests.ChatTemplates;

/// <summary>Errors name what went wrong and where, in the template as written (before whitespace preprocessing).</summary>
public class ErrorTests
{
    private static ChatTemplateException SyntaxError(string source)
    {
        var ex = Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(source));
        Assert.Equal(ChatTemplateErrorKind.Syntax, ex.Kind);
        return ex;
    }

    private static ChatTemplateException RenderError(string source)
    {
        var template = ChatTemplate.Parse(source);
        return Assert.Throws<ChatTemplateException>(() => template.Render(new ChatTemplateContext()));
    }

    [Theory]
    [InlineData("hello\n{{ 1 ! 2 }}", 2, 6, "Unexpected character: !")]
    [InlineData("{% if x %}\n  {% frob %}", 2, 6, "Unknown statement type: frob")]
    [InlineData("a\n\n    {% for x in %}{% endfor %}", 3, 17, "%}")]
    [InlineData("{{ 'unterminated }}", 1, 4, "Unexpected end of input")]
    [InlineData("x {# never closed", 1, 3, "comment")]
    [InlineData("{{ x | 3 }}", 1, 8, "filter")]
    [InlineData("{{ f(a=1, 2) }}", 1, 11, "Positional arguments must come before keyword arguments")]
    public void SyntaxErrorsPointAtTheOffendingToken(string source, int line, int column, string reasonPart)
    {
        var ex = SyntaxError(source);
        Assert.Contains(reasonPart, ex.Reason);
        Assert.Equal((line, column), (ex.Line, ex.Column));
        Assert.EndsWith($"(line {line}, column {column})", ex.Message);
    }

    [Theory]
    [InlineData("{% if true %}never closed")]
    [InlineData("{% for x in y %}")]
    [InlineData("{% macro m() %}")]
    [InlineData("{% set x %}body")]
    [InlineData("{{ [1, 2 }}")]
    [InlineData("{{ (1 }}")]
    [InlineData("{{ x")]
    [InlineData("{% endif %}")]
    [InlineData("{% if %}{% endif %}")]
    public void UnfinishedOrMisplacedConstructsAreSyntaxErrors(string source)
    {
        var ex = SyntaxError(source);
        Assert.InRange(ex.Line, 1, 1);
        Assert.InRange(ex.Column, 1, source.Length + 1);
    }

    [Fact]
    public void RaiseExceptionKeepsTheTemplateMessage()
    {
        var ex = RenderError("line one\n{% if true %}\n  {{ raise_exception('Roles must alternate!') }}\n{% endif %}");
        Assert.Equal(ChatTemplateErrorKind.Raised, ex.Kind);
        Assert.Equal("Roles must alternate!", ex.Message);
        Assert.Equal(3, ex.Line);
    }

    [Fact]
    public void RenderErrorsCarryTheReferenceMessageAndPosition()
    {
        var ex = RenderError("ok\n{{ 'x' }} {{ none | trim }}");
        Assert.Equal(ChatTemplateErrorKind.Render, ex.Kind);
        Assert.Equal("Cannot apply filter \"trim\" to type: NullValue", ex.Reason);
        Assert.Equal((2, 14), (ex.Line, ex.Column)); // the filtered expression
    }

    [Fact]
    public void RunawayRecursionIsAnErrorNotACrash()
    {
        var ex = RenderError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
        Assert.Equal(ChatTemplateErrorKind.Render, ex.Kind);
        Assert.Contains("nesting", ex.Reason);
    }

    [Fact]
    public void DeeplyNestedTextIsASyntaxErrorNotACrash()
    {
        string source = "{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}";
        Assert.Contains("nested", SyntaxError(source).Reason);
    }

    [Fact]
    public void HugeRangesAreRefused() =>
        Assert.Contains("range", RenderError("{% for i in range(1000000000) %}{% endfor %}").Reason);

    [Fact]
    public void BreakOutsideALoopIsARenderError() =>
        Assert.Contains("break", RenderError("{% break %}").Reason);

    [Fact]
    public void VariablesMayNotShadowGlobals()
    {
        var template = ChatTemplate.Parse("{{ 1 }}");
        var context = new ChatTemplateContext().SetVariable("range", 3);
        var ex = Assert.Throws<ChatTemplateException>(() => template.Render(context));
        Assert.Equal("Variable already declared: range", ex.Reason);
    }
}
