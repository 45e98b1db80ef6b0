using System.CommandLine;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// The options of verbs that evaluate a model: <c>-m</c>, <c>-t</c>, <c>-c</c>, <c>--cache-type</c> and <c>-p</c>, and opening the
/// model and a session from them.
/// </summary>
internal sealed class ModelSessionOptions
{
    public Option<string?> Model { get; } = CommonOptions.Model();

    public Option<int?> Threads { get; } = CommonOptions.Threads();

    public Option<int?> Context { get; } = CommonOptions.Context();

    public Option<string?> CacheType { get; } = CommonOptions.CacheType();

    public Option<string> Prompt { get; } = new("--prompt", "-p") { Description = "prompt text; empty means BOS alone", DefaultValueFactory = _ => "" };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(Model);
        command.Add(Threads);
        command.Add(Context);
        command.Add(CacheType);
        command.Add(Prompt);
    }

    /// <summary>Loads the model, opens a session and tokenizes the prompt (BOS added, special tokens parsed).</summary>
    public OpenedModel Open(ParseResult parse)
    {
        int? threads = CommonOptions.CheckThreads(parse.GetValue(Threads));
        int? context = CommonOptions.CheckContext(parse.GetValue(Context));
        var cacheType = CommonOptions.CheckCacheType(parse.GetValue(CacheType));
        var lm = LanguageModel.Load(CommonOptions.ResolveModel(parse.GetValue(Model)));
        try
        {
            CommonOptions.CheckCacheFits(cacheType, lm);
            var session = lm.CreateSession(new SessionOptions { Threads = threads, ContextLength = context, CacheType = cacheType });
            int[] tokens = lm.Tokenizer.Encode(parse.GetValue(Prompt) ?? "", addSpecial: true, parseSpecial: true);
            if (tokens.Length == 0)
                throw new UsageException("the prompt is empty and the model adds no BOS token, so there is nothing to start from.");
            return new OpenedModel(lm, session, tokens);
        }
        catch
        {
            lm.Dispose();
            throw;
        }
    }
}

/// <summary>A loaded model with a fresh session and the tokenized prompt; disposing it closes the model.</summary>
internal sealed record OpenedModel(LanguageModel Model, InferenceSession Session, int[] PromptTokens) : IDisposable
{
    public void Dispose() => Model.Dispose();
}
