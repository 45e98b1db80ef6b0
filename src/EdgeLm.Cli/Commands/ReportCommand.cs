using System.CommandLine;
using System.Text;
using EdgeLm.Cli.Reporting;
using EdgeLm.Compression.Reporting;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// <c>edgelm report -m ORIGINAL VARIANT... -f TEXT</c>: an original model and its variants (quantized, pruned, ...) side
/// by side: file size, bits per weight, perplexity, KL divergence from the original and generation speed, as a table
/// (or JSON) and optionally a PNG chart.
/// </summary>
internal static class ReportCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        model.Description = "the original model, the baseline with KLD 0 (default: the bundled model)";
        var variants = new Argument<string[]>("VARIANTS") { Description = "models to compare with the original (e.g. quantized copies of it)", Arity = ArgumentArity.OneOrMore };
        var file = new Option<string>("--file", "-f") { Description = "text for perplexity and KL divergence", Required = true };
        var context = new Option<int>("--ctx-size", "-c") { Description = "chunk length in tokens", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int?>("--chunks") { Description = "evaluate at most this many chunks" };
        var threads = CommonOptions.Threads();
        var genCount = new Option<int>("--n-gen", "-n", "--tokens") { Description = "tokens decoded per generation-speed run", DefaultValueFactory = _ => 32 };
        var promptCount = new Option<int>("--n-prompt", "-p") { Description = "tokens of the text per prompt-speed run; 0 skips it", DefaultValueFactory = _ => 64 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "speed runs per model after a warm-up (the median is reported)", DefaultValueFactory = _ => 3 };
        var cache = new Option<int>("--max-cache-mib") { Description = "memory for the original's logits, reused for every variant; over it the original is re-evaluated per variant", DefaultValueFactory = _ => 2048 };
        var png = new Option<string?>("--png") { Description = "write a chart (KLD vs size, perplexity, speed, bits per weight) to this PNG file" };
        var jsonFile = new Option<string?>("--json-file") { Description = "write the JSON report to this file too" };
        var json = CommonOptions.Json();

        var command = new Command("report", "Compare an original model with its variants: size, bits per weight, perplexity, KL divergence and speed.")
        {
            model, variants, file, context, chunks, threads, genCount, promptCount, reps, cache, png, jsonFile, json,
        };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(context);
            if (n < 4 || n > 1 << 20)
                throw new UsageException($"--ctx-size must be between 4 and {1 << 20}, got {n}.");
            int? maxChunks = parse.GetValue(chunks);
            if (maxChunks is <= 0)
                throw new UsageException($"--chunks must be positive, got {maxChunks}.");
            int generated = Positive(parse.GetValue(genCount), "--n-gen");
            int prompt = parse.GetValue(promptCount);
            if (prompt < 0)
                throw new UsageException($"--n-prompt must be 0 or more, got {prompt}.");
            int repetitions = Positive(parse.GetValue(reps), "--repetitions");
            int cacheMib = parse.GetValue(cache);
            if (cacheMib < 0)
                throw new UsageException($"--max-cache-mib must be 0 or more, got {cacheMib}.");
            int? t = CommonOptions.CheckThreads(parse.GetValue(threads));

            string original = CommonOptions.ResolveModel(parse.GetValue(model));
            string[] variantPaths = parse.GetValue(variants) ?? [];
            foreach (string v in variantPaths)
            {
                if (!File.Exists(v))
                    throw new UsageException($"VARIANTS: model file '{v}' does not exist.");
            }
            string textPath = parse.GetValue(file)!;
            string text = CommonOptions.ReadTextFile(textPath, "--file");
            string[] inputs = [original, .. variantPaths, textPath];
            string? pngPath = parse.GetValue(png), jsonPath = parse.GetValue(jsonFile);
            if (pngPath is not null)
                OutputFiles.CheckWritable(pngPath, "--png", inputs);
            if (jsonPath is not null)
                OutputFiles.CheckWritable(jsonPath, "--json-file", inputs);
            if (pngPath is not null && jsonPath is not null && Path.GetFullPath(pngPath) == Path.GetFullPath(jsonPath))
                throw new UsageException("--png and --json-file name the same file.");

            var options = new ComparisonOptions
            {
                OriginalPath = original,
                VariantPaths = variantPaths,
                Text = text,
                ContextLength = n,
                MaxChunks = maxChunks,
                Threads = t,
                GeneratedTokens = generated,
                PromptTokens = prompt,
                Repetitions = repetitions,
                MaxReferenceBytes = (long)cacheMib << 20,
            };
            ComparisonReport report;
            try
            {
                report = ModelComparison.Run(options, line => console.Error.WriteLine($"edgelm: {line}"));
            }
            catch (ModelComparisonException e)
            {
                throw new UsageException(e.Message);
            }

            object document = ReportJson.Build(report, textPath);
            var files = new List<(string, byte[])>();
            if (jsonPath is not null)
                files.Add((jsonPath, Encoding.UTF8.GetBytes(CliConsole.ToJson(document) + "\n")));
            if (pngPath is not null)
                files.Add((pngPath, ReportChart.RenderPng(report)));
            OutputFiles.WriteAll(files);

            if (parse.GetValue(json))
            {
                console.WriteJson(document);
            }
            else
            {
                console.Output.Write(ReportTable.Format(report));
                if (pngPath is not null)
                    console.Output.WriteLine($"chart: {pngPath}");
                if (jsonPath is not null)
                    console.Output.WriteLine($"json: {jsonPath}");
            }
            return EdgeLmCli.Success;
        });
        return command;
    }

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new UsageException($"{option} must be 1 or more, got {value}.");
}
