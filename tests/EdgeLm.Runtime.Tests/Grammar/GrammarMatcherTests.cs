using System.Text;
using EdgeLm.Runtime.Grammar;
using G = EdgeLm.Runtime.Grammar.GbnfGrammar;

namespace EdgeLm.Runtime.Tests.Grammar;

/// <summary>Accepting and refusing text, byte by byte, by hand-written cases.</summary>
public class GrammarMatcherTests
{
    [Theory]
    [InlineData("root ::= \"a\"{3}", "aaa", "aa|aaaa|")]
    [InlineData("root ::= \"a\"{2,}", "aa|aaaaaaa", "a|")]
    [InlineData("root ::= \"a\"{1,3}", "a|aa|aaa", "|aaaa")]
    [InlineData("root ::= \"a\"{0,2} \"b\"", "b|ab|aab", "aaab|a")]
    [InlineData("root ::= \"a\"{,2}", "|a|aa", "aaa")]
    [InlineData("root ::= (\"ab\" | \"c\")+", "ab|c|abcab|cc", "|a|abb|ca")]
    [InlineData("root ::= \"x\"* \"y\"?", "|x|xxxy|y", "yy|yx")]
    [InlineData("root ::= (\"a\" \"b\"?){2}", "aa|aba|abab|aab", "a|abb|aaa")]
    public void RepetitionBounds(string gbnf, string accepted, string refused)
    {
        var g = G.Parse(gbnf);
        foreach (string text in accepted.Split('|'))
            Assert.True(g.Matches(text), $"should accept '{text}'");
        foreach (string text in refused.Split('|'))
            Assert.False(g.Matches(text), $"should refuse '{text}'");
    }

    [Theory]
    [InlineData("[a-z]", "a|m|z", "A|0|{|é")]
    [InlineData("[^\"\\\\]", "a|é|😀|\u00ff|\u07ff|\u0800|\uffff", "\"|\\")]
    [InlineData("[^a]", "b|\u0000", "a")]
    [InlineData("[α-ω]", "α|λ|ω", "a|Ω|ϊ")]
    [InlineData("[\\u00e0-\\u00ff\\U0001F600-\\U0001F64F]", "à|ÿ|😀|🙏", "ß|Ā|🚀")]
    [InlineData("[\\x00-\\x1F]", "\u0000|\n|\u001f", " ")]
    [InlineData("[-a]", "-|a", "b")]
    [InlineData("[a-]", "-|a", "b")]
    [InlineData(".", "a|é|中|😀|\n", "")]
    [InlineData("[\\uD000-\\uE000]", "\ud7ff|\ue000|\ud000", "\ucfff|\ue001")]
    public void CharacterClassesOverCodePoints(string cls, string accepted, string refused)
    {
        var g = G.Parse($"root ::= {cls}");
        foreach (string text in accepted.Split('|'))
            Assert.True(g.Matches(text), $"{cls} should accept U+{char.ConvertToUtf32(text, 0):X4}");
        foreach (string text in refused.Split('|'))
            Assert.False(g.Matches(text), $"{cls} should refuse '{text}'");
    }

    [Fact]
    public void AnyCharacterAndNegatedClassesMatchEveryCodePointByTheirUtf8()
    {
        // Every code point (but surrogates) in a spread of the range, including each encoding-length boundary.
        var g = G.Parse("root ::= .");
        var notX = G.Parse("root ::= [^x]");
        int[] edges = [0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFF, 0x1000, 0xCFFF, 0xD000, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x3FFFF, 0x40000, 0xFFFFF, 0x100000, 0x10FFFF];
        foreach (int cp in edges.Concat(Enumerable.Range(0, 2000).Select(i => i * 557 % 0x110000)))
        {
            if (cp is >= 0xD800 and <= 0xDFFF)
                continue;
            string s = char.ConvertFromUtf32(cp);
            Assert.True(g.Matches(s), $"U+{cp:X4}");
            Assert.Equal(cp != 'x', notX.Matches(s));
        }
    }

    [Theory]
    [InlineData(new byte[] { 0xC0, 0x80 })]          // overlong NUL
    [InlineData(new byte[] { 0xE0, 0x80, 0x80 })]    // overlong
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]    // surrogate U+D800
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // beyond U+10FFFF
    [InlineData(new byte[] { 0x80 })]                // lone continuation
    [InlineData(new byte[] { 0xC3 })]                // truncated
    public void InvalidUtf8IsNeverAccepted(byte[] bytes)
    {
        var matcher = new GrammarMatcher(G.Parse("root ::= .*"));
        Assert.False(matcher.TryAccept(bytes) && matcher.IsComplete);
    }

    [Fact]
    public void BytesMayStopInsideACharacter()
    {
        var matcher = new GrammarMatcher(G.Parse("root ::= \"é\" [€-€]"));
        byte[] all = Encoding.UTF8.GetBytes("é€"); // C3 A9 E2 82 AC
        Assert.True(matcher.TryAccept(all.AsSpan(0, 1)));
        Assert.False(matcher.IsComplete);
        Assert.True(matcher.TryAccept(all.AsSpan(1, 3)));
        Assert.False(matcher.CanAccept([0xAD]));
        Assert.True(matcher.TryAccept(all.AsSpan(4, 1)));
        Assert.True(matcher.IsComplete);
        Assert.False(matcher.CanContinue);
    }

    [Fact]
    public void ARefusedAcceptChangesNothing()
    {
        var matcher = new GrammarMatcher(G.Parse("root ::= \"abc\" | \"abd\""));
        Assert.True(matcher.TryAccept("ab"));
        Assert.False(matcher.TryAccept("ce"));
        Assert.True(matcher.CanAccept("c"u8));
        Assert.True(matcher.CanAccept("d"u8));
        Assert.Throws<GrammarException>(() => matcher.Accept("x"u8));
        matcher.Accept("d"u8);
        Assert.True(matcher.IsComplete);
        matcher.Reset();
        Assert.False(matcher.IsComplete);
        Assert.True(matcher.TryAccept("abc"));
    }

    [Fact]
    public void MinimumBytesToCompleteFollowsTheShortestPath()
    {
        var matcher = new GrammarMatcher(G.Parse("root ::= \"{\" item* \"}\"\nitem ::= \"long-item\" | \"x\""));
        Assert.Equal(2, matcher.MinimumBytesToComplete);
        matcher.Accept("{lon"u8);
        Assert.Equal(7, matcher.MinimumBytesToComplete); // "g-item}"
        matcher.Accept("g-item"u8);
        Assert.Equal(1, matcher.MinimumBytesToComplete); // "}"
        matcher.Accept("}"u8);
        Assert.Equal(0, matcher.MinimumBytesToComplete);
    }

    [Fact]
    public void DeepRepetitionKeepsStatesFinite()
    {
        // Tail calls: a long run of a starred item returns to the same state instead of growing a stack.
        var matcher = new GrammarMatcher(G.Parse("root ::= \"[\" [a-z]* \"]\""));
        matcher.Accept("["u8);
        matcher.Accept("abc"u8);
        int states = matcher.Automaton.StateCount;
        matcher.Accept(Encoding.UTF8.GetBytes(new string('q', 5000)));
        Assert.Equal(states, matcher.Automaton.StateCount);
        matcher.Accept("]"u8);
        Assert.True(matcher.IsComplete);
    }

    [Fact]
    public void LongChainsOfEmptiableRulesDoNotOverflowTheStack()
    {
        // 50000 nested optionals of an optional item: expanding the start walks the whole chain (and compiling it,
        // naming 50000 helper rules, must stay linear).
        var g = G.Parse("root ::= (\"a\"?){0,50000} \"b\"");
        Assert.True(g.Matches("b"));
        Assert.True(g.Matches("ab"));
        Assert.False(g.Matches("aa"));
    }

    [Fact]
    public void AmbiguousGrammarsKeepEveryLiveParse()
    {
        var g = G.Parse("root ::= a | b\na ::= \"x\" \"y\"* \"z\"\nb ::= \"x\" [y-z]* \"w\"");
        Assert.True(g.Matches("xyyz"));
        Assert.True(g.Matches("xyzw"));
        Assert.True(g.Matches("xw"));
        Assert.False(g.Matches("xyzz"));
    }
}
