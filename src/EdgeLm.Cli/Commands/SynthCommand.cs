using System.CommandLine;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Synthesis;

namespace EdgeLm.Cli.Commands;

/// <summary><c>edgelm synth</c>: write a random-weight model of a real architecture with a real vocabulary.</summary>
internal static class SynthCommand
{
    public static Command Create(CliConsole console)
    {
        var json = CommonOptions.Json();
        var output = new Option<string>("--output", "-o") { Description = "GGUF file to write", Required = true };
        var arch = new Option<string>("--arch") { Description = "architecture: llama or qwen2", DefaultValueFactory = _ => "llama" };
        var vocab = new Option<string>("--vocab-from") { Description = "take the vocabulary from this GGUF (e.g. a vocab-only file) or Hugging Face tokenizer.json", Required = true };
        var embd = new Option<int>("--embd") { Description = "embedding width", Required = true };
        var layers = new Option<int>("--layers") { Description = "number of blocks", Required = true };
        var heads = new Option<int>("--heads") { Description = "query heads", Required = true };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "key/value heads (default: --heads)" };
        var ff = new Option<int>("--ff") { Description = "feed-forward width", Required = true };
        var type = new Option<string>("--type") { Description = "f32, f16 or bf16", DefaultValueFactory = _ => "f32" };
        var std = new Option<float>("--std") { Description = "standard deviation of the weights", DefaultValueFactory = _ => 0.02f };
        var seed = new Option<ulong>("--seed") { Description = "random seed", DefaultValueFactory = _ => 0 };
        var tied = new Option<bool>("--tied") { Description = "no output matrix: reuse the token embedding" };
        var context = new Option<int>("--ctx") { Description = "context length recorded in the metadata", DefaultValueFactory = _ => 2048 };

        var command = new Command("synth", "Write a model of a real architecture with random weights, for tests and benchmarks.")
        {
            json, output, arch, vocab, embd, layers, heads, kvHeads, ff, type, std, seed, tied, context,
        };
        command.SetAction(parse =>
        {
            var weightType = parse.GetValue(type)!.ToLowerInvariant() switch
            {
                "f32" => GgmlType.F32,
                "f16" => GgmlType.F16,
                "bf16" => GgmlType.BF16,
                var other => throw new UsageException($"--type must be f32, f16 or bf16, got '{other}' (quantize afterwards for other types)."),
            };
            var options = new SynthesisOptions
            {
                Architecture = parse.GetValue(arch)!,
                EmbeddingLength = parse.GetValue(embd),
                BlockCount = parse.GetValue(layers),
                HeadCount = parse.GetValue(heads),
                KeyValueHeadCount = parse.GetValue(kvHeads) ?? parse.GetValue(heads),
                FeedForwardLength = parse.GetValue(ff),
                Type = weightType,
                StandardDeviation = parse.GetValue(std),
                Seed = parse.GetValue(seed),
                TiedEmbeddings = parse.GetValue(tied),
                ContextLength = parse.GetValue(context),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message.Split(Environment.NewLine)[0]);
            }
            string outPath = parse.GetValue(output)!;
            string? folder = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (folder is not null && !Directory.Exists(folder))
                throw new UsageException($"--output: folder '{folder}' does not exist.");

            long parameters = ModelSynthesizer.Write(outPath, options, VocabularySource.Read(parse.GetValue(vocab)!));
            if (parse.GetValue(json))
                console.WriteJson(new { path = outPath, parameters });
            else
                console.Output.WriteLine($"wrote {outPath}: {options.Architecture}, {parameters:N0} parameters");
            return EdgeLmCli.Success;
        });
        return command;
    }
}
