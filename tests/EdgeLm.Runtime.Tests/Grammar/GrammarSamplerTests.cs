using System.Text;
using EdgeLm.Runtime.Grammar;
using EdgeLm.Runtime.Sampling;
using G = EdgeLm.Runtime.Grammar.GbnfGrammar;

namespace EdgeLm.Runtime.Tests.Grammar;

/// <summary>The grammar sampler on small hand-made vocabularies.</summary>
public class GrammarSamplerTests
{
    // Id 0 ends generation, id 1 is a control token (no bytes), the rest are text.
    private static readonly string?[] Pieces = [null, null, "a", "b", "ab", "ba", "{", "}", "{}", "\"", "x\"", " ", "é", "\u00e9\""];

    private static GrammarVocabulary Vocabulary(string?[] pieces) =>
        new(pieces.Select(p => p is null ? null : Encoding.UTF8.GetBytes(p)).ToList(), [0]);

    private static int[] Allowed(GrammarSampler sampler, int vocabularySize, int[]? only = null)
    {
        var candidates = new CandidateList(vocabularySize);
        candidates.Reset(new float[vocabularySize]);
        if (only is not null)
        {
            // Narrow to the given ids, as a truncating sampler before this one would.
            for (int i = 0; i < only.Length; i++)
                candidates.Ids[i] = only[i];
            candidates.Truncate(only.Length);
        }
        sampler.Apply(candidates);
        return [.. candidates.Ids];
    }

    [Fact]
    public void OnlyTokensTheGrammarAllowsSurviveAndEndOfGenerationOnlyWhenComplete()
    {
        var vocabulary = Vocabulary(Pieces);
        var sampler = new GrammarSampler(G.Parse("root ::= [ab]+"), vocabulary);
        Assert.Equal([2, 3, 4, 5], Allowed(sampler, Pieces.Length));
        sampler.Accept(4); // "ab"
        Assert.Equal([0, 2, 3, 4, 5], Allowed(sampler, Pieces.Length));
        sampler.Accept(0);
        Assert.True(sampler.HasEnded);
    }

    [Fact]
    public void TokensSplittingACharacterAreJudgedByTheirBytes()
    {
        // "é" is C3 A9; a token holding only C3 is allowed where é may start, and then must be followed by A9.
        string?[] pieces = [null, "\u00e9", "x"];
        var bytes = pieces.Select(p => p is null ? null : Encoding.UTF8.GetBytes(p)).ToList();
        bytes.Add([0xC3]);
        bytes.Add([0xA9]);
        var sampler = new GrammarSampler(G.Parse("root ::= [é]{2}"), new GrammarVocabulary(bytes, [0]));
        Assert.Equal([1, 3], Allowed(sampler, 5));
        sampler.Accept(3);
        Assert.Equal([4], Allowed(sampler, 5));
        sampler.Accept(4);
        Assert.Equal([1, 3], Allowed(sampler, 5));
    }

    [Fact]
    public void PromptTokensAcceptedWithoutAnApplyAreIgnored()
    {
        var sampler = new GrammarSampler(G.Parse("root ::= \"a\""), Vocabulary(Pieces));
        sampler.Accept(3); // a prompt token "b": not generated, so not matched
        sampler.Accept(1);
        Assert.Equal([2], Allowed(sampler, Pieces.Length));
        sampler.Accept(2);
        Assert.True(sampler.Matcher.IsComplete);
    }

    [Fact]
    public void AcceptingADisallowedDrawnTokenThrows()
    {
        var sampler = new GrammarSampler(G.Parse("root ::= \"a\""), Vocabulary(Pieces));
        Allowed(sampler, Pieces.Length);
        Assert.Throws<GrammarException>(() => sampler.Accept(3));
    }

    [Fact]
    public void NoAllowedCandidateIsAnError()
    {
        var sampler = new GrammarSampler(G.Parse("root ::= \"a\""), Vocabulary(Pieces));
        var e = Assert.Throws<GrammarException>(() => Allowed(sampler, Pieces.Length, only: [3, 4]));
        Assert.Contains("none of the candidate", e.Message);
    }

    [Fact]
    public void TheOrderOfCandidatesIsKept()
    {
        var sampler = new GrammarSampler(G.Parse("root ::= [ab]"), Vocabulary(Pieces));
        Assert.Equal([3, 2], Allowed(sampler, Pieces.Length, only: [3, 6, 2, 4]));
    }

    [Fact]
    public void ATokenBudgetSteersToACompleteTextInTime()
    {
        // Shortest completion of "{" is 1 byte ("}"); "{" "{" ... would need more than the budget allows.
        var g = G.Parse("root ::= \"{\" root* \"}\"");
        var vocabulary = Vocabulary(Pieces);
        var sampler = new GrammarSampler(g, vocabulary, tokenBudget: 4);
        Assert.Equal([6, 8], Allowed(sampler, Pieces.Length)); // "{" leaves 1 byte in 3 tokens; "{}" done
        sampler.Accept(6);
        Assert.Equal([6, 7, 8], Allowed(sampler, Pieces.Length)); // 3 left: "{" then needs "}}" in 2
        sampler.Accept(6);
        Assert.Equal([7], Allowed(sampler, Pieces.Length)); // 2 left: "{}" would still need "}}" in 1
        sampler.Accept(7);
        Assert.Equal([7], Allowed(sampler, Pieces.Length)); // 1 left: must close
        sampler.Accept(7);
        Assert.True(sampler.Matcher.IsComplete);
        Assert.Equal(0, sampler.RemainingTokens);
        sampler.Reset();
        Assert.Equal(4, sampler.RemainingTokens);
        Assert.Equal([6, 8], Allowed(sampler, Pieces.Length));
    }

    [Fact]
    public void WhenNothingFitsTheBudgetTheClosestTokensAreKept()
    {
        var g = G.Parse("root ::= \"{\" \"ab\"{3} \"}\"");
        var sampler = new GrammarSampler(g, Vocabulary(Pieces), tokenBudget: 1);
        Assert.Equal([6], Allowed(sampler, Pieces.Length));
    }

    [Fact]
    public void MaskAndDirectChecksAgreeWithAMatcherOnRandomVocabularies()
    {
        // A JSON-like grammar; the vocabulary is random byte strings over its alphabet plus a few multi-byte pieces.
        var g = G.Parse("""
            root ::= "{" ws (pair ("," ws pair)*)? "}"
            pair ::= "\"" [a-zé]{1,4} "\"" ws ":" ws ("true" | [0-9]+ | root)
            ws ::= " "?
            """);
        var random = new Random(5);
        const string alphabet = "{}\":, truea0123é";
        var bytes = new List<byte[]?> { null };
        for (int i = 0; i < 3000; i++)
        {
            var piece = Encoding.UTF8.GetBytes(new string(Enumerable.Range(0, random.Next(1, 5)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray()));
            if (random.Next(8) == 0)
                piece = piece[..^1]; // cut inside a character sometimes
            bytes.Add(piece.Length == 0 ? null : piece);
        }
        var vocabulary = new GrammarVocabulary(bytes, [0]);
        var sampler = new GrammarSampler(g, vocabulary);
        var reference = new GrammarMatcher(g);
        for (int step = 0; step < 40 && !sampler.HasEnded; step++)
        {
            int[] expected = Enumerable.Range(0, bytes.Count)
                .Where(id => id == 0 ? reference.IsComplete : bytes[id] is { } b && reference.CanAccept(b)).ToArray();
            Assert.Equal(expected, Allowed(sampler, bytes.Count)); // mask path
            int[] some = Enumerable.Range(0, 100).Select(_ => random.Next(bytes.Count)).Distinct().ToArray();
            int[] someAllowed = [.. some.Where(expected.Contains)];
            if (someAllowed.Length > 0)
                Assert.Equal(someAllowed, Allowed(sampler, bytes.Count, only: some)); // direct path
            else
                Assert.Throws<GrammarException>(() => Allowed(sampler, bytes.Count, only: some));
            int chosen = expected[random.Next(expected.Length)];
            Allowed(sampler, bytes.Count);
            sampler.Accept(chosen);
            if (chosen != 0)
                reference.Accept(bytes[chosen]);
        }
    }
}
