using EdgeLm.Runtime.Grammar;
using G = EdgeLm.Runtime.Grammar.GbnfGrammar;

namespace EdgeLm.Runtime.Tests.Grammar;

/// <summary>GBNF syntax: what parses, what is refused and where the error points.</summary>
public class GbnfParserTests
{
    private static GrammarException Refused(string gbnf) => Assert.Throws<GrammarException>(() => G.Parse(gbnf));

    [Fact]
    public void RulesMayContinueOnLinesStartingWithABarOrInsideParentheses()
    {
        var g = G.Parse("""
            # a comment line
            root ::= greeting
              | "bye"         # trailing comment
            greeting ::= ( "hi"
                           "!" )
            """);
        Assert.True(g.Matches("hi!"));
        Assert.True(g.Matches("bye"));
        Assert.False(g.Matches("hi"));
        Assert.Equal("root", g.RootName);
    }

    [Fact]
    public void ARuleEndsAtTheNextRuleDefinition()
    {
        var g = G.Parse("root ::= a b\na ::= \"x\"\nb ::= \"y\"");
        Assert.True(g.Matches("xy"));
        Assert.Equal(3, g.RuleNames.Take(3).Count(n => n is "root" or "a" or "b"));
    }

    [Theory]
    [InlineData(@"root ::= ""\x41\u00e9\U0001F600\n\t\\\""""", "Aé😀\n\t\\\"")]
    [InlineData(@"root ::= ""\[\]""", "[]")]
    [InlineData(@"root ::= ""é😀""", "é😀")]
    public void LiteralEscapesAndNonAsciiText(string gbnf, string text) => Assert.True(G.Parse(gbnf).Matches(text));

    [Fact]
    public void EmptyAlternativesAndEmptyLiteralsMatchNothing()
    {
        var g = G.Parse("root ::= \"a\" ( | \"b\" ) \"\"");
        Assert.True(g.Matches("a"));
        Assert.True(g.Matches("ab"));
        Assert.Equal(1, g.MinimumLength);
    }

    [Theory]
    [InlineData("root ::= \"abc", 1, 10, "Unterminated string")]
    [InlineData("root ::= [abc", 1, 10, "Unterminated character class")]
    [InlineData("root ::= (\"a\"", 1, 14, "Unclosed '('")]
    [InlineData("root ::= \"a\")", 1, 13, "Unexpected ')'")]
    [InlineData("root = \"a\"", 1, 6, "Expected '::='")]
    [InlineData("root ::= \"a\"\n  \"b\" @", 2, 7, "Unexpected character '@'")]
    [InlineData("root ::= \"\\q\"", 1, 11, "Unknown escape")]
    [InlineData("root ::= \"\\x4\"", 1, 14, "hexadecimal")]
    [InlineData("root ::= * \"a\"", 1, 10, "nothing before it")]
    [InlineData("root ::= \"a\"{3,2}", 1, 13, "maximum below its minimum")]
    [InlineData("root ::= [z-a]", 1, 14, "reversed")]
    [InlineData("root ::= \"\\U00110000\"", 1, 13, "beyond U+10FFFF")]
    [InlineData("root ::= \"\\uD800\"", 1, 17, "surrogate")]
    public void SyntaxErrorsNameTheProblemAndItsPosition(string gbnf, int line, int column, string message)
    {
        var e = Refused(gbnf);
        Assert.Contains(message, e.Message);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
    }

    [Fact]
    public void AnUndefinedRuleIsReportedWhereItIsUsed()
    {
        var e = Refused("root ::= \"a\"\n   item");
        Assert.Contains("'item' is used but never defined", e.Message);
        Assert.Equal((2, 4), (e.Line, e.Column));
    }

    [Fact]
    public void DuplicateAndMissingRulesAreRefused()
    {
        Assert.Contains("defined twice", Refused("root ::= \"a\"\nroot ::= \"b\"").Message);
        Assert.Contains("no start rule 'root'", Refused("start ::= \"a\"").Message);
        Assert.Contains("no rules", Refused("# nothing\n").Message);
        Assert.True(G.Parse("start ::= \"a\"", rootRule: "start").Matches("a"));
    }

    [Theory]
    [InlineData("root ::= root \"a\" | \"b\"", "root -> root")]
    [InlineData("root ::= a\na ::= b \"x\"\nb ::= \"\" | a", "a -> b -> a")]
    [InlineData("root ::= (\"\" | \"a\")* ", "root_")]
    [InlineData("root ::= opt root \"x\" | \"y\"\nopt ::= \"z\"?", "root -> root")]
    public void LeftRecursionIsRefused(string gbnf, string cycle)
    {
        var e = Refused(gbnf);
        Assert.Contains("Left recursion", e.Message);
        Assert.Contains(cycle, e.Message);
    }

    [Fact]
    public void RightRecursionIsFine()
    {
        var g = G.Parse("root ::= \"(\" root \")\" | \"x\"");
        Assert.True(g.Matches("((x))"));
        Assert.False(g.Matches("((x)"));
    }

    [Fact]
    public void AStartRuleThatCanNeverFinishIsRefused() =>
        Assert.Contains("can never finish", Refused("root ::= \"a\" root").Message);

    [Fact]
    public void RepetitionCountsAreLimited() =>
        Assert.Contains("larger than", Refused("root ::= \"a\"{0,1000000}").Message);
}
