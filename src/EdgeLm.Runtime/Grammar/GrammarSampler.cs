using EdgeLm.Runtime.Sampling;

namespace EdgeLm.Runtime.Grammar;

/// <summary>
/// Constrained decoding: removes every candidate whose bytes the grammar does not allow next, and allows the
/// end-of-generation tokens only where the grammar is complete. Place it first in a chain (before top-k and the like),
/// so that the draw chooses among allowed tokens; it keeps the candidates' order.
/// </summary>
/// <remarks>
/// <para>Large candidate lists are filtered with a per-state token mask (<see cref="TokenMaskCache"/>: a walk of the
/// vocabulary trie, computed once per grammar state); short lists (after truncating samplers) are checked token by
/// token against the grammar's cached transitions.</para>
/// <para>Token budget: with <c>tokenBudget</c> set to the most tokens the generation may produce, the sampler also
/// refuses any token after which the shortest completion (in bytes) no longer fits in the tokens left, so the output is
/// complete when the budget runs out, provided every byte is available as a one-byte token (true of byte-fallback
/// SentencePiece and byte-level BPE vocabularies) and the grammar's shortest sentence fits the budget. When no
/// allowed candidate fits, the ones leading closest to completion are kept.</para>
/// <para>Prompt tokens: <see cref="SamplerChain"/> passes prompt tokens to <see cref="Accept"/> too. The grammar
/// constrains only what is generated, so a token is matched only when it was drawn after this sampler's
/// <see cref="Apply"/>; tokens accepted without one are ignored. Use <see cref="Matcher"/> to force text.</para>
/// </remarks>
public sealed class GrammarSampler : ISampler
{
    // Candidate lists at most this fraction of the vocabulary are checked token by token instead of by mask.
    private const int DirectCheckDivisor = 16;

    private readonly GrammarVocabulary _vocabulary;
    private readonly TokenMaskCache _masks;
    private readonly int? _tokenBudget;
    private long[] _distances;
    private bool _applied;

    /// <summary>Creates the sampler for <paramref name="grammar"/> over <paramref name="vocabulary"/>.</summary>
    /// <param name="grammar">The grammar the generated text must follow from its start.</param>
    /// <param name="vocabulary">The model's tokens (shared, build once per model).</param>
    /// <param name="tokenBudget">Most tokens the generation may produce; when set, the text is steered to be complete within it.</param>
    public GrammarSampler(GbnfGrammar grammar, GrammarVocabulary vocabulary, int? tokenBudget = null)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (tokenBudget is < 0)
            throw new ArgumentOutOfRangeException(nameof(tokenBudget), tokenBudget, "The token budget cannot be negative.");
        _vocabulary = vocabulary;
        _tokenBudget = tokenBudget;
        RemainingTokens = tokenBudget;
        _distances = new long[vocabulary.Count];
        Matcher = new GrammarMatcher(grammar);
        _masks = new TokenMaskCache(Matcher.Automaton, vocabulary);
    }

    /// <summary>The grammar's position in the generated text.</summary>
    public GrammarMatcher Matcher { get; }

    /// <summary>Tokens left in the budget, or null without one.</summary>
    public int? RemainingTokens { get; private set; }

    /// <summary>Whether an end-of-generation token has been accepted.</summary>
    public bool HasEnded { get; private set; }

    /// <summary>How many token masks have been computed (each a walk of the vocabulary trie); the rest came from the cache.</summary>
    public int MasksComputed => _masks.Computed;

    /// <inheritdoc />
    /// <exception cref="GrammarException">No candidate is allowed (e.g. a truncating sampler ran first and kept none that fit).</exception>
    public void Apply(CandidateList candidates)
    {
        _applied = true;
        int count = candidates.Count;
        if (count == 0)
            return;
        int state = Matcher.State;
        var ids = candidates.Ids;
        var logits = candidates.Logits;
        TokenMask? mask = count * DirectCheckDivisor > _vocabulary.Count ? _masks.Get(state) : null;
        long allowedDistance = RemainingTokens is int remaining ? remaining - 1 : long.MaxValue;
        bool checkDistance = mask is null ? RemainingTokens is not null : mask.MaxNextDistance > allowedDistance;

        // Pass 1: each candidate's completion distance after it (-1 when the grammar refuses it; 0 when the
        // distance does not matter). Pass 2: keep, in order, the allowed ones within budget, or failing any, the
        // ones that come closest to completion.
        if (_distances.Length < count)
            _distances = new long[count];
        var distances = _distances.AsSpan(0, count);
        long closest = long.MaxValue;
        for (int i = 0; i < count; i++)
        {
            long distance = Distance(ids[i], state, mask, checkDistance);
            distances[i] = distance;
            if (distance >= 0)
                closest = Math.Min(closest, distance);
        }
        long limit = Math.Max(allowedDistance, closest);
        int kept = 0;
        for (int i = 0; i < count; i++)
        {
            if (distances[i] < 0 || distances[i] > limit)
                continue;
            ids[kept] = ids[i];
            logits[kept] = logits[i];
            kept++;
        }
        if (kept == 0)
            throw new GrammarException("The grammar allows none of the candidate tokens; put the grammar sampler before samplers that drop candidates");
        candidates.Truncate(kept);
    }

    private long Distance(int id, int state, TokenMask? mask, bool checkDistance)
    {
        var automaton = Matcher.Automaton;
        if (_vocabulary.IsEndOfGeneration(id))
            return automaton.IsComplete(state) ? 0 : -1;
        if (mask is not null && !mask.Contains(id))
            return -1;
        if (mask is not null && !checkDistance)
            return 0;
        var bytes = _vocabulary.Bytes(id);
        if (bytes.IsEmpty)
            return -1;
        int next = automaton.Walk(state, bytes);
        if (next == GrammarAutomaton.Dead)
            return -1;
        return checkDistance ? automaton.Distance(next) : 0;
    }

    /// <inheritdoc />
    /// <exception cref="GrammarException">A drawn token the grammar does not allow.</exception>
    public void Accept(int token)
    {
        if (!_applied)
            return;
        _applied = false;
        if (RemainingTokens is int remaining)
            RemainingTokens = Math.Max(remaining - 1, 0);
        if (_vocabulary.IsEndOfGeneration(token))
        {
            if (!Matcher.IsComplete)
                throw new GrammarException($"End-of-generation token {token} drawn before the grammar is complete");
            HasEnded = true;
            return;
        }
        var bytes = _vocabulary.Bytes(token);
        if (bytes.IsEmpty)
            throw new GrammarException($"Token {token} is never allowed by a grammar (it has no bytes or is a control token)");
        Matcher.Accept(bytes);
    }

    /// <inheritdoc />
    public void Reset()
    {
        Matcher.Reset();
        RemainingTokens = _tokenBudget;
        HasEnded = false;
        _applied = false;
    }
}
