using System.Diagnostics;
using EdgeLm.Runtime.Grammar;
using EdgeLm.Runtime.Grammar.Json;
using EdgeLm.Runtime.Sampling;
using EdgeLm.Testing;
using EdgeLm.Tokenizers;
using Xunit.Abstractions;

namespace EdgeLm.Runtime.Tests.Grammar;

/// <summary>
/// The grammar sampler's cost per token on a real 32000-token vocabulary (llama's SentencePiece), with random logits
/// and random choices among the allowed tokens standing in for a model.
/// </summary>
public class GrammarSamplerPerformanceTests(ITestOutputHelper output)
{
    private const string Schema = """
        {"type":"object","properties":{
          "name":{"type":"string","maxLength":40},
          "room":{"enum":["kitchen","living room","bedroom"]},
          "level":{"type":"integer","minimum":0,"maximum":100},
          "tags":{"type":"array","items":{"type":"string"},"maxItems":4},
          "schedule":{"type":"object","properties":{"at":{"type":"string"},"repeat":{"type":"boolean"}},"required":["at"]},
          "note":{"type":"string"}},
         "required":["name","room","level"]}
        """;

    private enum Step { MaskComputed, MaskCached, BudgetBinding }

    [Fact]
    public void RandomWalksOverA32000TokenVocabularyAllCompleteWithinTheBudget()
    {
        var tokenizer = Tokenizer.FromGguf(RepoPaths.Fixture("vocab", "ggml-vocab-llama-spm.gguf"));
        Assert.Equal(32000, tokenizer.VocabularySize);
        var build = Stopwatch.StartNew();
        var vocabulary = GrammarVocabulary.FromTokenizer(tokenizer);
        build.Stop();
        var grammar = JsonSchemaGrammar.FromSchema(Schema);

        var random = new Random(1);
        var logits = new float[32000];
        for (int i = 0; i < logits.Length; i++)
            logits[i] = (float)(random.NextDouble() * 10);
        var candidates = new CandidateList(32000);
        // Whole-vocabulary Apply times by kind of step: a new state's mask computed (a trie walk), a cached mask, or a
        // step where the token budget binds (each allowed token's completion distance checked too).
        var ticks = new long[3];
        var counts = new int[3];
        long truncatedTicks = 0, allowed = 0;
        int steps = 0, complete = 0;
        for (int run = 0; run < 6; run++)
        {
            var sampler = new GrammarSampler(grammar, vocabulary, tokenBudget: 200);
            while (true)
            {
                candidates.Reset(logits);
                int computedBefore = sampler.MasksComputed;
                bool budgetMayBind = sampler.RemainingTokens - 1 < sampler.Matcher.MinimumBytesToComplete + 64;
                long start = Stopwatch.GetTimestamp();
                sampler.Apply(candidates);
                long elapsed = Stopwatch.GetTimestamp() - start;
                var kind = sampler.MasksComputed > computedBefore ? Step.MaskComputed : budgetMayBind ? Step.BudgetBinding : Step.MaskCached;
                ticks[(int)kind] += elapsed;
                counts[(int)kind]++;
                allowed += candidates.Count;
                int token = candidates.Ids[random.Next(candidates.Count)];

                // The same state with 40 candidates (as after top-k), checked token by token; the chosen one among them.
                candidates.Reset(logits);
                candidates.Ids[0] = token;
                for (int k = 1; k < 40; k++)
                    candidates.Ids[k] = random.Next(32000);
                candidates.Truncate(40);
                start = Stopwatch.GetTimestamp();
                sampler.Apply(candidates);
                truncatedTicks += Stopwatch.GetTimestamp() - start;

                sampler.Accept(token);
                steps++;
                if (sampler.HasEnded || sampler.RemainingTokens == 0)
                {
                    complete += sampler.Matcher.IsComplete ? 1 : 0;
                    break;
                }
            }
        }
        double Ms(long t, int n) => t * 1000.0 / Stopwatch.Frequency / Math.Max(n, 1);
        double perToken = Ms(ticks.Sum(), steps);
        output.WriteLine($"vocabulary trie built in {build.Elapsed.TotalMilliseconds:F0} ms ({vocabulary.NodeCount} nodes)");
        output.WriteLine($"{steps} tokens, mean {allowed / steps} allowed: {perToken:F3} ms per token on the whole vocabulary");
        foreach (var kind in Enum.GetValues<Step>())
            output.WriteLine($"  {kind}: {Ms(ticks[(int)kind], counts[(int)kind]):F3} ms per token ({counts[(int)kind]} tokens)");
        output.WriteLine($"  40 candidates: {Ms(truncatedTicks, steps):F3} ms per token");
        // Speed is reported above, not asserted (timings belong to benchmarks); what must hold is that every budgeted
        // walk over the real vocabulary ends complete.
        Assert.Equal(6, complete);
    }
}
