using EdgeLm.Runtime.Generation;
using EdgeLm.Runtime.Sampling;
using EdgeLm.Tokenizers.ChatTemplates;
using Microsoft.Extensions.AI;

namespace EdgeLm.Runtime.AI;

/// <summary>
/// A loaded model ready to serve requests: its chat template and tool-call format, a bounded pool of sessions, the
/// output constraints, and running statistics. <see cref="EdgeLmChatClient"/>, <see cref="EdgeLmEmbeddingGenerator"/>
/// and the HTTP server share one. Thread-safe.
/// </summary>
public sealed partial class ModelRunner : IDisposable
{
    private readonly bool _ownsModel;

    /// <summary>Serves <paramref name="model"/> (which stays the caller's to dispose).</summary>
    public ModelRunner(LanguageModel model, ModelRunnerOptions? options = null) : this(model, options, ownsModel: false)
    {
    }

    private ModelRunner(LanguageModel model, ModelRunnerOptions? options, bool ownsModel)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new ModelRunnerOptions();
        if (options.DefaultMaxOutputTokens is <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.DefaultMaxOutputTokens, "The default output limit must be positive.");
        Model = model;
        Options = options;
        _ownsModel = ownsModel;
        ModelId = options.ModelId ?? Path.GetFileNameWithoutExtension(model.Path);
        string? stored = GgufChatTemplate.ReadSource(model.File);
        UsesDefaultChatTemplate = options.ChatTemplate is null && stored is null;
        var template = options.ChatTemplate ?? (stored is null ? ChatTemplate.Default : ChatTemplate.Parse(stored));
        var special = new ChatTemplateContext().UseSpecialTokensOf(model.File);
        Formatter = new ChatPromptFormatter(template, special.BosToken, special.EosToken);
        Constraints = options.Constraints ?? new GrammarConstraintProvider(model);
        Sessions = new SessionPool(model, new SessionOptions { ContextLength = options.ContextLength, Threads = options.Threads, CacheType = options.CacheType },
            options.Sessions, options.QueueLimit);
    }

    /// <summary>Loads the model at <paramref name="path"/> and serves it; disposing the runner closes the model.</summary>
    public static ModelRunner Load(string path, ModelRunnerOptions? options = null)
    {
        var model = LanguageModel.Load(path);
        try
        {
            return new ModelRunner(model, options, ownsModel: true);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The model.</summary>
    public LanguageModel Model { get; }

    /// <summary>The options the runner was made with.</summary>
    public ModelRunnerOptions Options { get; }

    /// <summary>The model's name in responses.</summary>
    public string ModelId { get; }

    /// <summary>True when the model has no chat template and EdgeLm's default (ChatML) is used.</summary>
    public bool UsesDefaultChatTemplate { get; }

    /// <summary>Enforces JSON response formats and required tool calls.</summary>
    public IOutputConstraintProvider Constraints { get; }

    /// <summary>Renders conversations into prompts.</summary>
    public ChatPromptFormatter Formatter { get; }

    /// <summary>The sessions requests run in.</summary>
    public SessionPool Sessions { get; }

    /// <summary>Context length of every session.</summary>
    public int ContextLength => Sessions.ContextLength;

    /// <summary>Width of the embeddings <see cref="EmbedAsync"/> returns.</summary>
    public int EmbeddingLength => Model.HyperParameters.EmbeddingLength;

    /// <summary>Totals of the work done so far.</summary>
    public RunnerStatistics Statistics { get; } = new();

    /// <summary>
    /// Prepares a chat request: renders and tokenizes the prompt, maps <paramref name="options"/> to generation
    /// options, and builds the constraint for a JSON response format or a required tool call. Nothing runs yet.
    /// </summary>
    /// <exception cref="InvalidChatRequestException">An option is out of range or the template rejects the conversation.</exception>
    /// <exception cref="ContextOverflowException">The prompt leaves no room in the context.</exception>
    public GenerationPlan PrepareChat(IEnumerable<ChatMessage> messages, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        string prompt;
        try
        {
            prompt = Formatter.Format(messages, options);
        }
        catch (ChatTemplateException e)
        {
            throw new InvalidChatRequestException($"The chat template rejected the conversation: {e.Message}", "messages", e);
        }
        int[] tokens = EncodeChatPrompt(prompt);
        var tools = ChatPromptFormatter.OfferedTools(options);
        OutputConstraint? constraint = null;
        string constraintParameter = "response_format";
        if (tools.Count > 0 && options!.ToolMode is RequiredChatToolMode required)
        {
            var chosen = required.RequiredFunctionName is null ? tools : [.. tools.Where(t => t.Name == required.RequiredFunctionName)];
            if (chosen.Count == 0)
                throw new InvalidChatRequestException($"The required tool '{required.RequiredFunctionName}' is not among the tools offered.", "tool_choice");
            constraint = OutputConstraint.ForToolCall(chosen, Formatter.ToolCallFormat);
            constraintParameter = "tools";
        }
        else if (tools.Count == 0 && options?.ResponseFormat is ChatResponseFormatJson json)
        {
            constraint = new OutputConstraint { Schema = json.Schema };
        }
        // End-of-turn markers stop free text; under a constraint the grammar decides where the output ends.
        var stops = constraint is null ? Formatter.EndOfTurnTexts : [];
        return Plan(tokens, options, stops, constraint, constraintParameter, tools.Count > 0 ? Formatter.ToolCallFormat : null);
    }

    /// <summary>
    /// Prepares a plain completion of <paramref name="prompt"/> (BOS added as the model asks), honouring the
    /// sampling, limit, stop and JSON response-format settings of <paramref name="options"/>.
    /// </summary>
    /// <exception cref="InvalidChatRequestException">An option is out of range or the prompt has no tokens.</exception>
    /// <exception cref="ContextOverflowException">The prompt leaves no room in the context.</exception>
    public GenerationPlan PrepareCompletion(string prompt, ChatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        int[] tokens = Model.Tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true);
        if (tokens.Length == 0)
            throw new InvalidChatRequestException("The prompt is empty and the model adds no BOS token, so there is nothing to start from.", "prompt");
        var constraint = options?.ResponseFormat is ChatResponseFormatJson json ? new OutputConstraint { Schema = json.Schema } : null;
        return Plan(tokens, options, [], constraint, "response_format", toolCallFormat: null);
    }

    /// <summary>
    /// Leases a session (waiting in the queue while all are busy) and starts generating. Dispose the run when done
    /// with it; disposing early cancels the generation.
    /// </summary>
    /// <exception cref="SessionPoolFullException">All sessions are busy and the queue is full.</exception>
    public async Task<GenerationRun> StartAsync(GenerationPlan plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var lease = await Sessions.AcquireAsync(cancellationToken).ConfigureAwait(false);
        // A plan's constraint samplers are stateful: each start gets fresh ones.
        var options = plan.Options with { Constraints = plan.CreateConstraints() };
        return new GenerationRun(lease, plan.PromptTokens, options, Statistics, cancellationToken);
    }

    private GenerationPlan Plan(int[] tokens, ChatOptions? options, IReadOnlyList<string> extraStops, OutputConstraint? constraint,
        string constraintParameter, ToolCallFormat? toolCallFormat)
    {
        int context = ContextLength;
        if (tokens.Length + 1 > context)
            throw new ContextOverflowException(tokens.Length + 1, context);
        int room = context - tokens.Length;
        int maxTokens;
        if (options?.MaxOutputTokens is int asked)
        {
            if (asked <= 0)
                throw new InvalidChatRequestException($"max_tokens must be at least 1, got {asked}.", "max_tokens");
            if (asked > room)
                throw new InvalidChatRequestException(
                    $"max_tokens is {asked} but the prompt's {tokens.Length} tokens leave room for only {room} in the context of {context}.", "max_tokens");
            maxTokens = asked;
        }
        else
        {
            maxTokens = Math.Min(room, Options.DefaultMaxOutputTokens ?? room);
        }
        var sampling = MapSampling(options);
        foreach (int token in sampling.LogitBias.Keys)
            if (token >= Model.HyperParameters.VocabularySize)
                throw new InvalidChatRequestException(
                    $"logit_bias names token {token}, but the vocabulary has {Model.HyperParameters.VocabularySize} tokens.", LogitBiasKey);
        var stops = new List<string>();
        foreach (string stop in options?.StopSequences ?? [])
        {
            if (string.IsNullOrEmpty(stop))
                throw new InvalidChatRequestException("Stop sequences must not be empty.", "stop");
            stops.Add(stop);
        }
        stops.AddRange(extraStops.Where(s => !stops.Contains(s)));

        Func<ISampler>? makeConstraint = null;
        if (constraint is not null)
        {
            // Build one now: an invalid schema is refused before the request waits for a session.
            var provider = Constraints;
            ISampler first;
            try
            {
                first = provider.CreateSampler(constraint, maxTokens);
            }
            catch (InvalidChatRequestException e) when (e.Parameter is null)
            {
                throw new InvalidChatRequestException(e.Message, constraintParameter, e.InnerException);
            }
            var handedOut = 0;
            makeConstraint = () => Interlocked.Exchange(ref handedOut, 1) == 0 ? first : provider.CreateSampler(constraint, maxTokens);
        }
        var generation = new GenerationOptions { MaxTokens = maxTokens, Sampling = sampling, StopSequences = stops };
        return new GenerationPlan(tokens, generation, toolCallFormat, constraint, makeConstraint);
    }

    /// <summary><see cref="ChatOptions.AdditionalProperties"/> key of the min-p threshold (llama.cpp's <c>min_p</c>).</summary>
    public const string MinPKey = "min_p";

    /// <summary><see cref="ChatOptions.AdditionalProperties"/> key of the repetition penalty (llama.cpp's <c>repeat_penalty</c>).</summary>
    public const string RepeatPenaltyKey = "repeat_penalty";

    /// <summary>
    /// <see cref="ChatOptions.AdditionalProperties"/> key of a logit bias (OpenAI's <c>logit_bias</c>): a map from token
    /// id to a bias added to its logit, as an <c>IReadOnlyDictionary&lt;int, float&gt;</c> or a JSON object. A bias of
    /// -100 or below bans the token, as OpenAI documents.
    /// </summary>
    public const string LogitBiasKey = "logit_bias";

    private static Dictionary<int, float> ExtraLogitBias(ChatOptions options)
    {
        var bias = new Dictionary<int, float>();
        if (options.AdditionalProperties?.TryGetValue(LogitBiasKey, out object? value) != true || value is null)
            return bias;
        void Add(int token, float amount)
        {
            if (token < 0)
                throw new InvalidChatRequestException($"logit_bias token ids must be 0 or more, got {token}.", LogitBiasKey);
            if (!float.IsFinite(amount))
                throw new InvalidChatRequestException($"The logit_bias of token {token} must be a finite number.", LogitBiasKey);
            bias[token] = amount <= -100f ? float.NegativeInfinity : amount;
        }
        switch (value)
        {
            case IReadOnlyDictionary<int, float> map:
                foreach (var (token, amount) in map)
                    Add(token, amount);
                break;
            case System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Object } json:
                foreach (var property in json.EnumerateObject())
                {
                    if (!int.TryParse(property.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int token))
                        throw new InvalidChatRequestException($"logit_bias keys must be token ids, got '{property.Name}'.", LogitBiasKey);
                    if (property.Value.ValueKind != System.Text.Json.JsonValueKind.Number)
                        throw new InvalidChatRequestException($"The logit_bias of token {token} must be a number.", LogitBiasKey);
                    Add(token, property.Value.GetSingle());
                }
                break;
            default:
                throw new InvalidChatRequestException("logit_bias must map token ids to numbers.", LogitBiasKey);
        }
        return bias;
    }

    private static float? Extra(ChatOptions options, string key) =>
        options.AdditionalProperties?.TryGetValue(key, out object? value) == true
            ? value switch
            {
                float f => f,
                double d => (float)d,
                int i => i,
                System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Number } e => e.GetSingle(),
                _ => throw new InvalidChatRequestException($"'{key}' must be a number.", key),
            }
            : null;

    private static SamplingOptions MapSampling(ChatOptions? options)
    {
        var sampling = new SamplingOptions();
        if (options is null)
            return sampling;
        sampling = sampling with
        {
            Temperature = options.Temperature ?? sampling.Temperature,
            TopP = options.TopP ?? sampling.TopP,
            TopK = options.TopK ?? sampling.TopK,
            FrequencyPenalty = options.FrequencyPenalty ?? sampling.FrequencyPenalty,
            PresencePenalty = options.PresencePenalty ?? sampling.PresencePenalty,
            Seed = options.Seed is long seed ? unchecked((ulong)seed) : null,
            MinP = Extra(options, MinPKey) ?? sampling.MinP,
            RepeatPenalty = Extra(options, RepeatPenaltyKey) ?? sampling.RepeatPenalty,
            LogitBias = ExtraLogitBias(options),
        };
        if (options.Temperature is < 0f)
            throw new InvalidChatRequestException($"temperature must be 0 or more, got {options.Temperature}.", "temperature");
        try
        {
            sampling.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            string parameter = e.ParamName switch
            {
                nameof(SamplingOptions.TopP) => "top_p",
                nameof(SamplingOptions.TopK) => "top_k",
                nameof(SamplingOptions.Temperature) => "temperature",
                nameof(SamplingOptions.MinP) => MinPKey,
                nameof(SamplingOptions.RepeatPenalty) => RepeatPenaltyKey,
                nameof(SamplingOptions.LogitBias) => LogitBiasKey,
                _ => e.ParamName ?? "",
            };
            throw new InvalidChatRequestException(e.Message.Split(Environment.NewLine)[0], parameter, e);
        }
        return sampling;
    }

    /// <summary>Tokenizes a rendered chat prompt: special texts become their tokens; BOS is added unless the template wrote it.</summary>
    private int[] EncodeChatPrompt(string prompt)
    {
        var tokenizer = Model.Tokenizer;
        bool templateWroteBos = Formatter.BosToken is { Length: > 0 } bos && prompt.StartsWith(bos, StringComparison.Ordinal);
        var tokens = new List<int>();
        if (tokenizer.AddBos && !templateWroteBos && tokenizer.BosId >= 0)
            tokens.Add(tokenizer.BosId);
        tokenizer.Encode(prompt, tokens, addSpecial: false, parseSpecial: true);
        if (tokens.Count == 0)
            throw new InvalidChatRequestException("The conversation renders to an empty prompt.", "messages");
        return [.. tokens];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsModel)
            Model.Dispose();
    }
}

/// <summary>
/// A request ready to run: its prompt tokens, generation options, how to read tool calls from the output, and the
/// constraint it runs under.
/// </summary>
public sealed class GenerationPlan
{
    private readonly Func<ISampler>? _makeConstraint;

    internal GenerationPlan(int[] promptTokens, GenerationOptions options, ToolCallFormat? toolCallFormat,
        OutputConstraint? constraint, Func<ISampler>? makeConstraint)
    {
        PromptTokens = promptTokens;
        Options = options;
        ToolCallFormat = toolCallFormat;
        Constraint = constraint;
        _makeConstraint = makeConstraint;
    }

    /// <summary>The tokenized prompt.</summary>
    public int[] PromptTokens { get; }

    /// <summary>Limits, sampling and stop sequences (without the constraint samplers, made per run).</summary>
    public GenerationOptions Options { get; }

    /// <summary>The tool-call format to parse the output with, or null when no tools were offered.</summary>
    public ToolCallFormat? ToolCallFormat { get; }

    /// <summary>The shape the output was asked to take, or null.</summary>
    public OutputConstraint? Constraint { get; }

    /// <summary>True when the output runs under <see cref="Constraint"/>.</summary>
    public bool IsConstrained => _makeConstraint is not null;

    internal IReadOnlyList<ISampler> CreateConstraints() => _makeConstraint is null ? [] : [_makeConstraint()];
}
