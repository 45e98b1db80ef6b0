using EdgeLm.Runtime.Grammar;
using EdgeLm.Runtime.Grammar.Json;
using EdgeLm.Runtime.Sampling;

namespace EdgeLm.Runtime.AI;

/// <summary>
/// Enforces <see cref="OutputConstraint"/>s with EdgeLm's grammar engine: the schema becomes GBNF
/// (<see cref="JsonSchemaGrammar"/>), wrapped in the prefix and suffix literals, and a <see cref="GrammarSampler"/>
/// masks every token that would leave the grammar, steering the output to be complete within the token budget.
/// The model's token trie is built once, on first use. Thread-safe.
/// </summary>
public sealed class GrammarConstraintProvider : IOutputConstraintProvider
{
    // The wrapper's rule name; JSON schema grammars only make lower-case names of their own.
    private const string OutputRule = "edgelm-output";

    private readonly Lazy<GrammarVocabulary> _vocabulary;

    /// <summary>A provider for <paramref name="model"/>'s vocabulary.</summary>
    public GrammarConstraintProvider(LanguageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _vocabulary = new Lazy<GrammarVocabulary>(() =>
            GrammarVocabulary.FromTokenizer(model.Tokenizer, model.HyperParameters.VocabularySize));
    }

    /// <inheritdoc />
    public ISampler CreateSampler(OutputConstraint constraint, int tokenBudget)
    {
        ArgumentNullException.ThrowIfNull(constraint);
        return new GrammarSampler(Compile(constraint), _vocabulary.Value, tokenBudget);
    }

    /// <summary>The grammar of <paramref name="constraint"/>: prefix, the JSON value, suffix.</summary>
    /// <exception cref="InvalidChatRequestException">The schema is invalid or unsupported.</exception>
    public static GbnfGrammar Compile(OutputConstraint constraint)
    {
        ArgumentNullException.ThrowIfNull(constraint);
        try
        {
            string json = constraint.Schema is { } schema ? JsonSchemaGrammar.ToGbnf(schema) : JsonSchemaGrammar.JsonObjectGbnf;
            if (constraint.Prefix.Length == 0 && constraint.Suffix.Length == 0)
                return GbnfGrammar.Parse(json);
            string wrapper = $"{OutputRule} ::= {JsonGrammarRules.Literal(constraint.Prefix)} root {JsonGrammarRules.Literal(constraint.Suffix)}";
            return GbnfGrammar.Parse(json + "\n" + wrapper + "\n", OutputRule);
        }
        catch (GrammarException e)
        {
            throw new InvalidChatRequestException($"The JSON schema cannot be enforced: {e.Message}", null, e);
        }
    }
}
