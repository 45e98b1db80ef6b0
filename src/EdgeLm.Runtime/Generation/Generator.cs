using System.Diagnostics;
using System.Runtime.CompilerServices;
using EdgeLm.Runtime.Sampling;

namespace EdgeLm.Runtime.Generation;

/// <summary>
/// The one generation loop: evaluate the prompt, then sample, stream and evaluate one token at a time until an
/// end-of-generation token, a stop sequence, the token limit, the end of the context or cancellation.
/// </summary>
public static class Generator
{
    /// <summary>Generates after <paramref name="prompt"/> and returns the whole result; <paramref name="onToken"/> sees each token as it comes.</summary>
    /// <exception cref="ContextOverflowException">The prompt does not fit the session's context; nothing is evaluated.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the session keeps what it evaluated.</exception>
    public static GenerationResult Generate(InferenceSession session, IReadOnlyList<int> prompt, GenerationOptions options,
        Action<GeneratedToken>? onToken = null, CancellationToken cancellationToken = default)
    {
        var run = new Run(session, prompt, options);
        while (run.Step(cancellationToken) is { } token)
            onToken?.Invoke(token);
        return run.Result();
    }

    /// <summary>Streams the tokens generated after <paramref name="prompt"/>; each step runs on the thread pool.</summary>
    public static async IAsyncEnumerable<GeneratedToken> GenerateAsync(InferenceSession session, IReadOnlyList<int> prompt,
        GenerationOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var run = new Run(session, prompt, options);
        while (await Task.Run(() => run.Step(cancellationToken), cancellationToken).ConfigureAwait(false) is { } token)
            yield return token;
    }

    /// <summary>The state of one generation, advanced one token per <see cref="Step"/>.</summary>
    private sealed class Run
    {
        private readonly InferenceSession _session;
        private readonly int[] _prompt;
        private readonly GenerationOptions _options;
        private readonly SamplerChain _sampler;
        private readonly TextStream _text;
        private readonly List<int> _tokens = [];
        private readonly Stopwatch _promptClock = new();
        private readonly Stopwatch _generationClock = new();
        private StopReason? _stop;
        private bool _started;
        private bool _flushed;

        public Run(InferenceSession session, IReadOnlyList<int> prompt, GenerationOptions options)
        {
            if (prompt.Count == 0)
                throw new ArgumentException("The prompt has no tokens; add at least BOS.", nameof(prompt));
            ArgumentOutOfRangeException.ThrowIfNegative(options.MaxTokens);
            if (session.Position + prompt.Count > session.ContextLength)
                throw new ContextOverflowException(session.Position + prompt.Count, session.ContextLength);
            _session = session;
            _prompt = [.. prompt];
            _options = options;
            _sampler = SamplerChain.Create(session.Model.HyperParameters.VocabularySize, options.Sampling, options.Constraints);
            // A SentencePiece model's first word carries the space encoding adds before a text; when the generated
            // text starts the document (the prompt holds no text), that space is not part of it.
            var tokenizer = session.Model.Tokenizer;
            bool startsDocument = session.Position == 0 && tokenizer.Decode(_prompt, skipSpecial: true).Length == 0;
            _text = new TextStream(options.StopSequences, dropLeadingSpace: tokenizer.AddsSpacePrefix && startsDocument);
        }

        /// <summary>Produces the next token, or null when generation has ended.</summary>
        public GeneratedToken? Step(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_stop is not null)
                return FlushOnce();
            if (!_started)
            {
                _started = true;
                _promptClock.Start();
                foreach (int t in _prompt)
                    _sampler.Accept(t);
                _session.Evaluate(_prompt);
                _promptClock.Stop();
                _generationClock.Start();
            }
            if (_tokens.Count >= _options.MaxTokens)
                return End(StopReason.MaxTokens);

            int token = _sampler.Sample(_session.LastLogits);
            var tokenizer = _session.Model.Tokenizer;
            if (_options.StopAtEndOfGeneration && tokenizer.IsEndOfGeneration(token))
                return End(StopReason.EndOfGeneration);
            _tokens.Add(token);
            string text = _text.Append(tokenizer.TokenBytesSpan(token));
            if (_text.Stopped)
            {
                _stop = StopReason.StopSequence;
                _generationClock.Stop();
                _flushed = true;
                return new GeneratedToken(token, text);
            }
            // Evaluate the new token now unless this was the last one we may produce.
            if (_tokens.Count < _options.MaxTokens)
            {
                if (_session.Position + 1 > _session.ContextLength)
                {
                    _stop = StopReason.ContextFull;
                    _generationClock.Stop();
                    return new GeneratedToken(token, text);
                }
                _session.Evaluate([token]);
            }
            return new GeneratedToken(token, text);
        }

        private GeneratedToken? End(StopReason reason)
        {
            _stop = reason;
            _generationClock.Stop();
            return FlushOnce();
        }

        /// <summary>Emits held-back text once, as a pseudo-token with id -1, then ends.</summary>
        private GeneratedToken? FlushOnce()
        {
            if (_flushed)
                return null;
            _flushed = true;
            string rest = _text.Flush();
            return rest.Length > 0 ? new GeneratedToken(-1, rest) : null;
        }

        public GenerationResult Result() => new()
        {
            PromptTokens = _prompt,
            Tokens = [.. _tokens],
            Text = _text.Text,
            StopReason = _stop ?? StopReason.MaxTokens,
            PromptTime = _promptClock.Elapsed,
            GenerationTime = _generationClock.Elapsed,
        };
    }
}
