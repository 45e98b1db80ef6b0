using EdgeLm.Runtime.AI;
using EdgeLm.Runtime.Sampling;
using EdgeLm.Tokenizers;

namespace EdgeLm.Runtime.Tests.AI;

/// <summary>
/// A stand-in constraint engine for plumbing tests: instead of a grammar, it forces the tokens of a text chosen by
/// the test for each constraint, then the end of generation. Records the constraints it was asked for.
/// </summary>
internal sealed class ForcedTextProvider(Tokenizer tokenizer, Func<OutputConstraint, string> textFor) : IOutputConstraintProvider
{
    public List<OutputConstraint> Requests { get; } = [];

    public ISampler CreateSampler(OutputConstraint constraint, int tokenBudget)
    {
        lock (Requests)
            Requests.Add(constraint);
        return new ForcedSampler(tokenizer.Encode(textFor(constraint), addSpecial: false, parseSpecial: false), tokenizer.EosId);
    }

    private sealed class ForcedSampler(int[] tokens, int eos) : ISampler
    {
        private int _next;
        private bool _applied;

        public void Apply(CandidateList candidates)
        {
            _applied = true;
            int wanted = _next < tokens.Length ? tokens[_next] : eos;
            var ids = candidates.Ids;
            int at = ids.IndexOf(wanted);
            (ids[0], ids[at]) = (ids[at], ids[0]);
            (candidates.Logits[0], candidates.Logits[at]) = (candidates.Logits[at], candidates.Logits[0]);
            candidates.Truncate(1);
        }

        public void Accept(int token)
        {
            // Prompt tokens are accepted without an Apply first; only drawn tokens advance the text.
            if (_applied)
                _next++;
            _applied = false;
        }
    }
}
