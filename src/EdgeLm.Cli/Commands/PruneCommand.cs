using System.CommandLine;
using System.Globalization;
using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Pruning;
using EdgeLm.Runtime;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// <c>edgelm prune</c>: unstructured (magnitude, Wanda) and N:M pruning that zeroes weights, or width pruning that
/// removes FFN channels, attention heads and whole layers and writes a smaller model. Prints what it removed.
/// </summary>
internal static class PruneCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var output = new Option<string>("--output", "-o") { Description = "pruned GGUF model to write", Required = true };
        var method = new Option<string>("--method") { Description = "magnitude, wanda (zero weights) or width (remove channels, heads, layers)", Required = true };
        var sparsity = new Option<double?>("--sparsity") { Description = "fraction of each weight row zeroed, between 0 and 1 (default 0.5)" };
        var pattern = new Option<string?>("--pattern") { Description = "N:M semi-structured sparsity instead, e.g. 2:4 or 4:8" };
        var file = new Option<string?>("--file", "-f") { Description = "calibration text (wanda, width)" };
        var imatrix = new Option<string?>("--imatrix") { Description = "wanda: take the input statistics from this importance matrix instead of calibration text" };
        var context = new Option<int>("--ctx-size", "-c") { Description = "calibration chunk length in tokens", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int?>("--chunks") { Description = "calibrate on at most this many chunks" };
        var ffn = new Option<double?>("--ffn") { Description = "width: fraction of FFN channels kept per layer, rounded to a multiple of 32 (e.g. 0.75)" };
        var heads = new Option<string?>("--heads") { Description = "width: fraction of attention heads kept (e.g. 0.5), or a count of query heads (e.g. 4); whole KV groups go" };
        var dropLayers = new Option<int>("--drop-layers") { Description = "width: remove this many whole layers (those changing the residual least)" };

        var command = new Command("prune", "Prune a model: zero weights by magnitude or Wanda (optionally N:M), or remove FFN channels, heads and layers.")
        {
            model, threads, json, output, method, sparsity, pattern, file, imatrix, context, chunks, ffn, heads, dropLayers,
        };
        command.SetAction(parse =>
        {
            string kind = parse.GetValue(method)!.ToLowerInvariant();
            if (kind is not ("magnitude" or "wanda" or "width"))
                throw new UsageException($"--method must be magnitude, wanda or width, got '{parse.GetValue(method)}'.");
            int n = parse.GetValue(context);
            if (n < 1 || n > 1 << 20)
                throw new UsageException($"--ctx-size must be between 1 and {1 << 20}, got {n}.");
            int? maxChunks = parse.GetValue(chunks);
            if (maxChunks is <= 0)
                throw new UsageException($"--chunks must be positive, got {maxChunks}.");
            int? threadCount = CommonOptions.CheckThreads(parse.GetValue(threads));
            string input = CommonOptions.ResolveModel(parse.GetValue(model));
            string target = parse.GetValue(output)!;
            string? folder = Path.GetDirectoryName(Path.GetFullPath(target));
            if (folder is not null && !Directory.Exists(folder))
                throw new UsageException($"--output: folder '{folder}' does not exist.");
            string? calibration = parse.GetValue(file);
            if (calibration is not null && !File.Exists(calibration))
                throw new UsageException($"--file: file '{calibration}' does not exist.");
            bool asJson = parse.GetValue(json);

            if (kind == "width")
            {
                if (parse.GetValue(sparsity) is not null || parse.GetValue(pattern) is not null || parse.GetValue(imatrix) is not null)
                    throw new UsageException("--sparsity, --pattern and --imatrix belong to --method magnitude or wanda, not width.");
                var width = new WidthRequest(parse.GetValue(ffn), parse.GetValue(heads), parse.GetValue(dropLayers));
                width.Validate();
                if (calibration is null)
                    throw new UsageException("--method width measures importance on calibration text: pass -f FILE.");
                return Width(console, input, target, width, calibration, n, maxChunks, threadCount, asJson);
            }

            if (parse.GetValue(ffn) is not null || parse.GetValue(heads) is not null || parse.GetValue(dropLayers) != 0)
                throw new UsageException("--ffn, --heads and --drop-layers belong to --method width.");
            double? s = parse.GetValue(sparsity);
            if (s is { } value && !(value > 0 && value < 1))
                throw new UsageException($"--sparsity must be between 0 and 1 (exclusive), got {value.ToString(CultureInfo.InvariantCulture)}.");
            SparsityPattern? nm = null;
            if (parse.GetValue(pattern) is { } text)
            {
                try
                {
                    nm = SparsityPattern.Parse(text);
                }
                catch (FormatException e)
                {
                    throw new UsageException($"--pattern: {e.Message}");
                }
                if (s is { } given && Math.Abs(given - nm.Value.Sparsity) > 1e-9)
                    throw new UsageException($"--pattern {nm} zeroes {nm.Value.Sparsity:0.###} of the weights, which contradicts --sparsity {given.ToString(CultureInfo.InvariantCulture)}; give one of them.");
            }
            string? imatrixPath = parse.GetValue(imatrix);
            if (kind == "magnitude" && (calibration is not null || imatrixPath is not null))
                throw new UsageException("--method magnitude uses no calibration: drop -f and --imatrix (or use --method wanda).");
            if (kind == "wanda" && (calibration is null) == (imatrixPath is null))
                throw new UsageException("--method wanda needs input statistics: pass either -f CALIBRATION.txt or --imatrix FILE.");
            if (imatrixPath is not null && !File.Exists(imatrixPath))
                throw new UsageException($"--imatrix: file '{imatrixPath}' does not exist.");

            try
            {
                PruneInput.Check(input, target);
                ImportanceMatrix? matrix = null;
                if (imatrixPath is not null)
                    matrix = ImportanceMatrixFile.Read(imatrixPath);
                else if (calibration is not null)
                {
                    using var lm = LanguageModel.Load(input);
                    int[] tokens = CalibrationTokens(lm, calibration, n);
                    matrix = ImportanceCollector.Collect(lm, tokens, new ImportanceOptions { ContextLength = n, MaxChunks = maxChunks, Threads = threadCount, Dataset = calibration });
                }
                var report = UnstructuredPruner.Prune(input, target, new UnstructuredPruneOptions
                {
                    Score = kind == "wanda" ? PruneScore.Wanda : PruneScore.Magnitude,
                    Sparsity = s ?? 0.5,
                    Pattern = nm,
                    Importance = matrix,
                    Threads = threadCount,
                });
                PruneOutput.Unstructured(console, report, asJson);
            }
            catch (Exception e) when (e is PruneException or ImportanceMatrixFormatException)
            {
                console.Error.WriteLine($"edgelm: error: {e.Message}");
                return EdgeLmCli.Failure;
            }
            return EdgeLmCli.Success;
        });
        return command;
    }

    /// <summary>What --method width was asked to remove.</summary>
    private sealed record WidthRequest(double? FeedForward, string? Heads, int DropLayers)
    {
        public void Validate()
        {
            if (FeedForward is { } f && !(f > 0 && f <= 1))
                throw new UsageException($"--ffn must be a fraction in (0, 1], got {f.ToString(CultureInfo.InvariantCulture)}.");
            if (DropLayers < 0)
                throw new UsageException($"--drop-layers must be 0 or more, got {DropLayers}.");
            if (Heads is { } h)
                _ = HeadsAsFraction(h, out _);
            if (FeedForward is null or 1 && Heads is null && DropLayers == 0)
                throw new UsageException("--method width needs something to remove: --ffn, --heads or --drop-layers.");
        }

        /// <summary>"0.5" is a fraction (returns it); "4" is a count of query heads (returns null, count in <paramref name="count"/>).</summary>
        public static double? HeadsAsFraction(string text, out int count)
        {
            count = 0;
            if (text.Contains('.', StringComparison.Ordinal))
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) || !(f > 0 && f <= 1))
                    throw new UsageException($"--heads {text}: a fraction must be in (0, 1].");
                return f;
            }
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1)
                throw new UsageException($"--heads {text}: expected a fraction such as 0.5 or a positive count of query heads such as 4.");
            return null;
        }

        /// <summary>The KV heads to keep for a model with <paramref name="heads"/> query heads on <paramref name="kvHeads"/> KV heads.</summary>
        public int? KeyValueHeads(int heads, int kvHeads)
        {
            if (Heads is null)
                return null;
            if (HeadsAsFraction(Heads, out int count) is { } fraction)
                return StructuredPruneOptions.KeyValueHeadCountFor(kvHeads, fraction);
            int group = heads / kvHeads;
            if (count > heads || count % group != 0)
                throw new UsageException($"--heads {count}: the model has {heads} query heads in groups of {group} sharing a KV head; keep a multiple of {group} up to {heads}.");
            return count / group;
        }
    }

    private static int Width(CliConsole console, string input, string target, WidthRequest request, string calibration, int n, int? maxChunks,
        int? threads, bool asJson)
    {
        try
        {
            PruneInput.Check(input, target);
            StructureStatistics statistics;
            StructuredPruneOptions options;
            using (var lm = LanguageModel.Load(input))
            {
                var p = lm.HyperParameters;
                int? feedForward = null;
                if (request.FeedForward is { } keep and < 1)
                {
                    if (p.FeedForwardLength < 32)
                        throw new UsageException($"--ffn: the FFN is {p.FeedForwardLength} channels wide, narrower than the multiple of 32 its width is rounded to.");
                    feedForward = StructuredPruneOptions.FeedForwardLengthFor(p.FeedForwardLength, keep);
                }
                options = new StructuredPruneOptions
                {
                    FeedForwardLength = feedForward,
                    KeyValueHeadCount = request.KeyValueHeads(p.HeadCount, p.KeyValueHeadCount),
                    DropBlocks = request.DropLayers,
                    Threads = threads,
                };
                if (request.DropLayers >= p.BlockCount)
                    throw new UsageException($"--drop-layers {request.DropLayers}: the model has {p.BlockCount} layers; at least one must stay.");
                int[] tokens = CalibrationTokens(lm, calibration, n);
                statistics = StructureStatistics.Collect(lm, tokens, new ImportanceOptions { ContextLength = n, MaxChunks = maxChunks, Threads = threads });
            }
            var report = StructuredPruner.Prune(input, target, options, statistics);
            PruneOutput.Structured(console, report, asJson);
            return EdgeLmCli.Success;
        }
        catch (PruneException e)
        {
            console.Error.WriteLine($"edgelm: error: {e.Message}");
            return EdgeLmCli.Failure;
        }
    }

    private static int[] CalibrationTokens(LanguageModel lm, string path, int n)
    {
        int[] tokens = lm.Tokenizer.Encode(File.ReadAllText(path), addSpecial: true, parseSpecial: false);
        if (tokens.Length < n)
            throw new UsageException($"the calibration text tokenizes to {tokens.Length} tokens, fewer than one chunk of --ctx-size {n}.");
        return tokens;
    }
}

/// <summary>What <c>edgelm prune</c> prints: per tensor (zeroing) or per layer (width), then the sizes.</summary>
internal static class PruneOutput
{
    public static void Unstructured(CliConsole console, UnstructuredPruneReport r, bool asJson)
    {
        string method = r.Score == PruneScore.Wanda ? "wanda" : "magnitude";
        if (asJson)
        {
            console.WriteJson(new
            {
                path = r.Path,
                method,
                sparsity = r.Sparsity,
                pattern = r.Pattern?.ToString(),
                pruned = r.Pruned,
                elements = r.Elements,
                input_bytes = r.InputBytes,
                output_bytes = r.OutputBytes,
                tensors = r.Tensors.Select(t => new { name = t.Name, elements = t.Elements, pruned = t.Pruned, zeros = t.ZerosAfter, sparsity = t.SparsityAfter }),
            });
            return;
        }
        var o = console.Output;
        string how = r.Pattern is { } p ? $"{p} ({r.Sparsity:P1} of every row)" : $"{r.Sparsity:P1} of every row";
        o.WriteLine($"{method} pruning, {how}:");
        int width = Math.Max(6, r.Tensors.Max(t => t.Name.Length));
        o.WriteLine($"  {"tensor".PadRight(width)} {"weights",10} {"zeroed",10} {"zero now",9}");
        foreach (var t in r.Tensors)
            o.WriteLine($"  {t.Name.PadRight(width)} {t.Elements,10} {t.Pruned,10} {t.SparsityAfter,9:P1}");
        o.WriteLine($"  {"total".PadRight(width)} {r.Elements,10} {r.Pruned,10} {(double)r.Tensors.Sum(t => t.ZerosAfter) / r.Elements,9:P1}");
        o.WriteLine($"wrote {r.Path}: {Size(r.OutputBytes)} (input {Size(r.InputBytes)}; zeros are stored, so the file keeps its size until a sparse format or a quantizer uses them)");
    }

    public static void Structured(CliConsole console, StructuredPruneReport r, bool asJson)
    {
        var plan = r.Plan;
        var p = plan.Source;
        if (asJson)
        {
            console.WriteJson(new
            {
                path = r.Path,
                method = "width",
                feed_forward_length = new { before = p.FeedForwardLength, after = plan.FeedForwardLength },
                head_count = new { before = p.HeadCount, after = plan.HeadCount },
                head_count_kv = new { before = p.KeyValueHeadCount, after = plan.KeyValueHeadCount },
                block_count = new { before = p.BlockCount, after = plan.Blocks.Count },
                dropped_layers = plan.DroppedBlocks,
                layers = plan.Blocks.Select((b, i) => new
                {
                    layer = i,
                    source_layer = b.SourceBlock,
                    ffn_channels_removed = Enumerable.Range(0, p.FeedForwardLength).Except(b.FeedForwardChannels).ToArray(),
                    kv_heads_removed = Enumerable.Range(0, p.KeyValueHeadCount).Except(b.KeyValueHeads).ToArray(),
                }),
                parameters_before = r.ParametersBefore,
                parameters_after = r.ParametersAfter,
                input_bytes = r.InputBytes,
                output_bytes = r.OutputBytes,
            });
            return;
        }
        var o = console.Output;
        o.WriteLine($"width pruning: FFN {p.FeedForwardLength} -> {plan.FeedForwardLength} channels, heads {p.HeadCount} -> {plan.HeadCount} " +
            $"(KV {p.KeyValueHeadCount} -> {plan.KeyValueHeadCount}), layers {p.BlockCount} -> {plan.Blocks.Count}");
        o.WriteLine($"  {"layer",-9} {"FFN removed",12} {"heads removed",14}  removed KV heads");
        for (int i = 0; i < plan.Blocks.Count; i++)
        {
            var b = plan.Blocks[i];
            var goneHeads = Enumerable.Range(0, p.KeyValueHeadCount).Except(b.KeyValueHeads).ToArray();
            string layer = b.SourceBlock == i ? $"{i}" : $"{b.SourceBlock}->{i}";
            o.WriteLine($"  {layer,-9} {p.FeedForwardLength - b.FeedForwardChannels.Length,12} {goneHeads.Length * p.GroupSize,14}  {(goneHeads.Length == 0 ? "-" : string.Join(",", goneHeads))}");
        }
        foreach (int d in plan.DroppedBlocks)
            o.WriteLine($"  layer {d} removed (input/output cosine similarity {plan.BlockCosines[d]:F4})");
        o.WriteLine($"parameters {r.ParametersBefore:N0} -> {r.ParametersAfter:N0} ({(double)r.ParametersAfter / r.ParametersBefore:P1})");
        o.WriteLine($"wrote {r.Path}: {Size(r.OutputBytes)} (input {Size(r.InputBytes)})");
    }

    private static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes / 1048576.0:F2} MiB" : $"{bytes / 1024.0:F1} KiB";
}
