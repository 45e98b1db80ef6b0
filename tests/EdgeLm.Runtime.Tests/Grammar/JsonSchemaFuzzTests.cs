using System.Text;
using System.Text.Json;
using EdgeLm.Runtime.Grammar;
using EdgeLm.Runtime.Grammar.Json;

namespace EdgeLm.Runtime.Tests.Grammar;

/// <summary>
/// Soundness of the converter without a model: random sentences of each random schema's grammar, built byte by byte
/// (uniformly among the bytes the grammar allows, so every corner is reachable, including odd UTF-8 and escapes),
/// must all be JSON that validates.
/// </summary>
public class JsonSchemaFuzzTests
{
    [Fact]
    public void RandomSentencesOfRandomSchemasValidate()
    {
        var schemas = new RandomSchemas(seed: 77);
        var random = new Random(78);
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        var allowed = new List<byte>();
        int sentences = 0;
        for (int s = 0; s < 200; s++)
        {
            string schema = schemas.Next().ToJsonString();
            var grammar = JsonSchemaGrammar.FromSchema(schema);
            using var schemaDocument = JsonDocument.Parse(schema);
            var matcher = new GrammarMatcher(grammar);
            for (int k = 0; k < 4; k++)
            {
                matcher.Reset();
                var bytes = new List<byte>();
                // Wander for up to ~60 bytes beyond the shortest sentence, then head for the nearest completion.
                long budget = grammar.MinimumLength + random.Next(60);
                while (true)
                {
                    long left = budget - bytes.Count;
                    if (matcher.IsComplete && (left <= 0 || !matcher.CanContinue || random.Next(8) == 0))
                        break;
                    allowed.Clear();
                    for (int b = 0; b < 256; b++)
                    {
                        // Within the budget, any allowed byte; past it, only bytes that bring completion nearer.
                        if (matcher.Automaton.Step(matcher.State, (byte)b) != GrammarAutomaton.Dead && (left > 0 || Distance(matcher, (byte)b) < matcher.MinimumBytesToComplete))
                            allowed.Add((byte)b);
                    }
                    Assert.NotEmpty(allowed);
                    byte chosen = allowed[random.Next(allowed.Count)];
                    matcher.Accept([chosen]);
                    bytes.Add(chosen);
                }
                string text = strict.GetString([.. bytes]);
                using var document = JsonDocument.Parse(text);
                var errors = JsonSchemaValidator.Validate(schemaDocument.RootElement, document.RootElement);
                Assert.True(errors.Count == 0, $"{string.Join("\n", errors)}\nschema: {schema}\ntext: {text}\n{grammar.Source}");
                sentences++;
            }
        }
        Assert.Equal(800, sentences);
    }

    // The shortest completion after one more byte (through the matcher's internal automaton, without accepting it).
    private static long Distance(GrammarMatcher matcher, byte next) =>
        matcher.Automaton.Distance(matcher.Automaton.Step(matcher.State, next));
}
