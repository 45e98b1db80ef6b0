using System.CommandLine;
using EdgeLm.Compression.Evaluation;
using EdgeLm.Compression.Fitting;
using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Quantization;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime;
using EdgeLm.Runtime.KvCache;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// <c>edgelm fit -m MODEL --memory 512MB [--context 2048] [-f TEXT]</c>: a type for every weight matrix so that the
/// running model (weights + KV cache + runtime) fits the budget with the least measured quantization error; writes
/// the model and reports the choice, the memory it needs and, with a text, its KL divergence from the original.
/// </summary>
internal static class FitCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var memory = new Option<string>("--memory")
        {
            Description = "memory budget: 512MB, 1.5GiB, 800M (K/M/G = KiB/MiB/GiB; KB/MB/GB decimal), bytes, or a llama.cpp mix (e.g. Q4_K_M) for the memory that mix would need",
            Required = true,
        };
        var context = new Option<int?>("--context") { Description = "context length the KV cache is sized for (default: the model's, at most 2048)" };
        var output = new Option<string?>("--output", "-o") { Description = "GGUF file to write (default: MODEL-fit-BUDGET.gguf beside the model)" };
        var imatrix = new Option<string?>("--imatrix") { Description = "importance matrix weighting each column's error and guiding the quantizers" };
        var file = new Option<string?>("--file", "-f") { Description = "calibration text: importance matrix (unless --imatrix), measured sensitivities, and the KL divergence reported" };
        var evalFile = new Option<string?>("--eval-file") { Description = "text the KL divergence is measured on (default: the calibration text; use held-back text for an honest figure)" };
        var compare = new Option<string?>("--compare") { Description = "comma-separated llama.cpp mixes (e.g. Q4_K_M,Q3_K_M) to quantize with the same importance matrix and report beside the fit" };
        var chunk = new Option<int>("--ctx-size", "-c") { Description = "chunk length in tokens for the calibration text", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int?>("--chunks") { Description = "use at most this many chunks of the text (sensitivities use at most 4)" };
        var sensitivity = new Option<string?>("--sensitivity") { Description = "how errors of different tensors compare: measured (KL divergence per tensor; default with -f), relative (to the tensor's norm; default without), none" };
        var margin = new Option<string>("--margin") { Description = "fixed allowance for the .NET runtime and the rest of the process", DefaultValueFactory = _ => "40MiB" };
        var types = new Option<string?>("--types") { Description = "comma-separated types tensors may take (default: q2_k,q3_k,q4_0,q4_k,q4_1,q5_0,q5_k,q5_1,q6_k,q8_0,f16)" };
        var cacheType = CommonOptions.CacheType();
        var dryRun = new Option<bool>("--dry-run") { Description = "choose and report, but write nothing" };
        var allowRequantize = new Option<bool>("--allow-requantize") { Description = "allow a model that is already quantized (loses quality)" };

        var command = new Command("fit", "Choose each tensor's type so the model fits a memory budget with the least quantization error, and write it.")
        {
            model, threads, json, memory, context, output, imatrix, file, evalFile, compare, chunk, chunks, sensitivity, margin, types, cacheType, dryRun, allowRequantize,
        };
        command.SetAction(parse =>
        {
            string budgetText = parse.GetValue(memory)!;
            FileType? budgetMix = null;
            if (!ByteSize.TryParse(budgetText, out long budget))
            {
                if (!FileTypes.TryParse(budgetText, out var mixType) || !FileTypes.IsQuantized(mixType))
                    throw new UsageException($"--memory '{budgetText}' is not a memory size; write e.g. 512MB, 1.5GiB, 800M, a byte count or a mix such as Q4_K_M.");
                budgetMix = mixType;
            }
            var mixes = ParseMixes(parse.GetValue(compare));
            string marginText = parse.GetValue(margin)!;
            long marginBytes = marginText.Trim() == "0" ? 0
                : ByteSize.TryParse(marginText, out long m) ? m : throw new UsageException($"--margin '{marginText}' is not a memory size.");
            int? ctx = parse.GetValue(context);
            if (ctx is <= 0 or > 1 << 20)
                throw new UsageException($"--context must be between 1 and {1 << 20}, got {ctx}.");
            int n = parse.GetValue(chunk);
            if (n < 4 || n > 1 << 20)
                throw new UsageException($"--ctx-size must be between 4 and {1 << 20}, got {n}.");
            int? maxChunks = parse.GetValue(chunks);
            if (maxChunks is <= 0)
                throw new UsageException($"--chunks must be positive, got {maxChunks}.");
            int? t = CommonOptions.CheckThreads(parse.GetValue(threads));
            var allowed = ParseTypes(parse.GetValue(types));
            string source = CommonOptions.ResolveModel(parse.GetValue(model));
            string target = parse.GetValue(output) ?? DefaultOutput(source, budgetText);
            string? folder = Path.GetDirectoryName(Path.GetFullPath(target));
            if (folder is not null && !Directory.Exists(folder))
                throw new UsageException($"--output: folder '{folder}' does not exist.");
            if (string.Equals(Path.GetFullPath(source), Path.GetFullPath(target), StringComparison.Ordinal))
                throw new UsageException("--output is the model itself; write the fitted model to another file.");
            string? imatrixPath = parse.GetValue(imatrix);
            if (imatrixPath is not null && !File.Exists(imatrixPath))
                throw new UsageException($"--imatrix: file '{imatrixPath}' does not exist.");
            string? textPath = parse.GetValue(file);
            string? text = textPath is null ? null : CommonOptions.ReadTextFile(textPath, "--file");
            string? evalPath = parse.GetValue(evalFile);
            if (evalPath is not null && text is null)
                throw new UsageException("--eval-file needs a calibration text (-f) too.");
            string? evalText = evalPath is null ? text : CommonOptions.ReadTextFile(evalPath, "--eval-file");
            if (mixes.Count > 0 && text is null)
                throw new UsageException("--compare needs a text (-f) to measure the KL divergence on.");
            var sensitivityModel = parse.GetValue(sensitivity)?.Trim().ToLowerInvariant() switch
            {
                null => text is null ? SensitivityModel.Relative : SensitivityModel.Measured,
                "measured" => text is null ? throw new UsageException("--sensitivity measured needs a calibration text (-f).") : SensitivityModel.Measured,
                "relative" => SensitivityModel.Relative,
                "none" => SensitivityModel.None,
                var other => throw new UsageException($"--sensitivity must be measured, relative or none, got '{other}'."),
            };
            bool quiet = parse.GetValue(json) || !ReferenceEquals(console.Error, Console.Error) || Console.IsErrorRedirected;

            ImportanceMatrix? matrix = null;
            try
            {
                if (imatrixPath is not null)
                    matrix = ImportanceMatrixFile.Read(imatrixPath);
            }
            catch (ImportanceMatrixFormatException e)
            {
                console.Error.WriteLine($"edgelm: error: {e.Message}");
                return EdgeLmCli.Failure;
            }

            var cache = CommonOptions.CheckCacheType(parse.GetValue(cacheType));
            using var original = LanguageModel.Load(source);
            CommonOptions.CheckCacheFits(cache, original);
            int contextLength = ctx ?? Math.Min(2048, original.HyperParameters.ContextLength);
            int[]? tokens = null;
            if (text is not null)
            {
                tokens = original.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
                if (tokens.Length < 2 * n)
                    throw new UsageException($"the text tokenizes to {tokens.Length} tokens; --ctx-size {n} needs at least {2 * n} (two chunks, to measure the KL divergence).");
                int evalTokens = original.Tokenizer.Encode(evalText!, addSpecial: true, parseSpecial: false).Length;
                if (evalTokens < 2 * n)
                    throw new UsageException($"the evaluation text tokenizes to {evalTokens} tokens; --ctx-size {n} needs at least {2 * n}.");
                if (matrix is null)
                {
                    if (!quiet)
                        console.Error.WriteLine("fit: collecting an importance matrix over the text");
                    matrix = ImportanceCollector.Collect(original, tokens, new ImportanceOptions
                    {
                        ContextLength = n, MaxChunks = maxChunks, Threads = t, IncludeOutput = true, Dataset = textPath!,
                    });
                }
            }
            // Memory of a fixed mix: quantize it (with the same importance matrix) and size its file.
            var compared = new List<(FileType Mix, MixResult? Result, string? Error)>();
            MixResult? MixFor(FileType mix)
            {
                var known = compared.FirstOrDefault(c => c.Mix == mix);
                if (known.Result is not null || known.Error is not null)
                    return known.Result;
                try
                {
                    var r = FixedMixes.Measure(source, mix, matrix, contextLength, t ?? Environment.ProcessorCount, marginBytes, original, evalText, n, maxChunks, cache);
                    compared.Add((mix, r, null));
                    return r;
                }
                catch (QuantizationException e)
                {
                    compared.Add((mix, null, e.Message));
                    return null;
                }
            }
            if (budgetMix is { } bm)
            {
                budget = (MixFor(bm) ?? throw new UsageException($"--memory {budgetText}: {compared.Last().Error}")).Memory.Total;
            }
            foreach (var mix in mixes)
                MixFor(mix);

            var options = new FitOptions
            {
                Budget = budget,
                ContextLength = contextLength,
                CacheType = cache,
                Threads = t,
                Margin = marginBytes,
                Importance = matrix,
                ImportancePath = imatrixPath,
                Sensitivity = sensitivityModel,
                CalibrationTokens = tokens,
                CalibrationContext = n,
                CalibrationChunks = Math.Min(4, maxChunks ?? 4),
                AllowedTypes = allowed,
                AllowRequantize = parse.GetValue(allowRequantize),
                Progress = quiet ? null : line => console.Error.Write($"\rfit: {line,-60}"),
            };

            FitPlan plan;
            KlDivergenceStatistics? kld = null;
            try
            {
                plan = ModelFitter.Plan(source, options);
                if (!parse.GetValue(dryRun))
                {
                    ModelFitter.Write(source, target, plan, options);
                    if (tokens is not null)
                    {
                        options.Progress?.Invoke("measuring the KL divergence");
                        using var fitted = LanguageModel.Load(target);
                        kld = FitEvaluation.Compare(original, fitted, evalText!, n, maxChunks, t);
                    }
                }
            }
            catch (FitException e)
            {
                if (!quiet)
                    console.Error.WriteLine();
                console.Error.WriteLine($"edgelm: error: {e.Message}");
                return EdgeLmCli.Failure;
            }
            if (!quiet)
                console.Error.WriteLine();
            Report(console, parse.GetValue(json), plan, parse.GetValue(dryRun) ? null : target, contextLength, cache, kld,
                compared.Where(c => budgetMix == c.Mix || mixes.Contains(c.Mix)).ToList());
            return EdgeLmCli.Success;
        });
        return command;
    }

    private static string DefaultOutput(string source, string budgetText)
    {
        string stem = Path.GetFileNameWithoutExtension(source);
        string label = new string(budgetText.Where(c => char.IsAsciiLetterOrDigit(c) || c == '.').ToArray());
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(source)) ?? ".", $"{stem}-fit-{label}.gguf");
    }

    private static List<FileType> ParseMixes(string? text)
    {
        var list = new List<FileType>();
        foreach (string part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!FileTypes.TryParse(part, out var mix) || !FileTypes.IsQuantized(mix))
                throw new UsageException($"--compare: '{part}' is not a quantized type or mix ({string.Join(", ", FileTypes.Names.Order(StringComparer.Ordinal))}).");
            if (!list.Contains(mix))
                list.Add(mix);
        }
        return list;
    }

    private static IReadOnlyCollection<GgmlType>? ParseTypes(string? text)
    {
        if (text is null)
            return null;
        var set = new HashSet<GgmlType>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<GgmlType>(part, ignoreCase: true, out var type) || char.IsAsciiDigit(part[0]) || !QuantizationErrors.AllTypes.Contains(type))
                throw new UsageException($"--types: '{part}' is not a type fit can choose ({string.Join(", ", QuantizationErrors.AllTypes.Select(x => x.ToString().ToLowerInvariant()))}).");
            set.Add(type);
        }
        return set.Count > 0 ? set : throw new UsageException("--types lists no type.");
    }

    private static void Report(CliConsole console, bool json, FitPlan plan, string? path, int context, KvCacheType cache, KlDivergenceStatistics? kld,
        IReadOnlyList<(FileType Mix, MixResult? Result, string? Error)> mixes)
    {
        var mem = plan.Memory;
        if (json)
        {
            console.WriteJson(new
            {
                path,
                budget = plan.Budget,
                minimum = plan.Minimum,
                context,
                cache_type = KvCacheTypes.Name(cache),
                file_type = plan.FileType.ToString(),
                bits_per_weight = Math.Round(plan.BitsPerWeight, 4),
                sensitivity = plan.Sensitivity.ToString().ToLowerInvariant(),
                memory = new
                {
                    weights = mem.Weights, kv_cache = mem.KvCache, activations = mem.Activations, logits = mem.Logits,
                    tokenizer = mem.Tokenizer, margin = mem.Margin, total = mem.Total,
                },
                tensors = plan.Tensors.Select(x => new { name = x.Name, type = x.Type.ToString(), bytes = x.Bytes, chosen = x.Chosen }),
                kld = Kld(kld),
                compare = mixes.Select(c => new
                {
                    type = c.Mix.ToString(), error = c.Error, file_bytes = c.Result?.FileBytes, memory = c.Result?.Memory.Total,
                    fits = c.Result is null ? (bool?)null : c.Result.Memory.Total <= plan.Budget, kld = Kld(c.Result?.Kld),
                }),
            });
            return;
        }
        var o = console.Output;
        o.WriteLine(path is null ? "plan (nothing written):" : $"wrote {path}:");
        foreach (var x in plan.Tensors.Where(x => x.Chosen))
            o.WriteLine($"  {x.Name,-32} {x.Type,-5} {ByteSize.Format(x.Bytes),12}");
        int copied = plan.Tensors.Count(x => !x.Chosen);
        if (copied > 0)
            o.WriteLine($"  ({copied} norm/vector tensors kept as they are: {ByteSize.Format(plan.Tensors.Where(x => !x.Chosen).Sum(x => x.Bytes))})");
        o.WriteLine("  by type: " + string.Join(", ", plan.Tensors.Where(x => x.Chosen).GroupBy(x => x.Type).OrderBy(g => g.Key)
            .Select(g => $"{g.Key} x{g.Count()} ({ByteSize.Format(g.Sum(x => x.Bytes))})")));
        o.WriteLine($"memory at a context of {context}: {ByteSize.Format(mem.Total)} of {ByteSize.Format(plan.Budget)} budget ({mem.Total} <= {plan.Budget} bytes)");
        o.WriteLine($"  weights (file)  {ByteSize.Format(mem.Weights),12}   {plan.BitsPerWeight:F2} bits per weight, labelled {plan.FileType}");
        o.WriteLine($"  KV cache ({KvCacheTypes.Name(cache).ToUpperInvariant()}) {ByteSize.Format(mem.KvCache),12}");
        o.WriteLine($"  activations     {ByteSize.Format(mem.Activations),12}");
        o.WriteLine($"  logits          {ByteSize.Format(mem.Logits),12}");
        o.WriteLine($"  tokenizer/norms {ByteSize.Format(mem.Tokenizer),12}");
        o.WriteLine($"  margin          {ByteSize.Format(mem.Margin),12}");
        o.WriteLine($"  (the smallest types everywhere would need {ByteSize.Format(plan.Minimum)}; errors compared by the {plan.Sensitivity.ToString().ToLowerInvariant()} sensitivity model)");
        if (kld is not null)
        {
            o.WriteLine($"KL divergence from the original over {kld.ScoredTokens} positions: mean {kld.Mean:F6} ± {kld.StandardError:F6}, median {kld.Median:F6}, " +
                $"99% {kld.P99:F6}, same top token {kld.TopTokenAgreement:P2}");
            o.WriteLine($"perplexity {kld.Perplexity:F4} (original {kld.BasePerplexity:F4})");
        }
        if (mixes.Count > 0)
        {
            o.WriteLine("fixed mixes, quantized with the same importance matrix:");
            o.WriteLine($"  {"type",-8} {"file",12} {"memory",12} {"fits",5} {"KL divergence",22} {"perplexity",10}");
            if (path is not null)
                o.WriteLine($"  {"fit",-8} {ByteSize.Format(mem.Weights),12} {ByteSize.Format(mem.Total),12} {"yes",5} {Mean(kld),22} {kld?.Perplexity,10:F4}");
            foreach (var (mix, r, error) in mixes)
            {
                o.WriteLine(r is null ? $"  {mix,-8} cannot be made: {error}"
                    : $"  {mix,-8} {ByteSize.Format(r.FileBytes),12} {ByteSize.Format(r.Memory.Total),12} {(r.Memory.Total <= plan.Budget ? "yes" : "no"),5} {Mean(r.Kld),22} {r.Kld?.Perplexity,10:F4}");
            }
        }
    }

    private static string Mean(KlDivergenceStatistics? k) => k is null ? "-" : $"{k.Mean:F6} ± {k.StandardError:F6}";

    private static object? Kld(KlDivergenceStatistics? k) => k is null ? null : new
    {
        mean = k.Mean, standard_error = k.StandardError, median = k.Median, p99 = k.P99, max = k.Maximum,
        top1_agreement = k.TopTokenAgreement, base_perplexity = k.BasePerplexity, perplexity = k.Perplexity, tokens = k.ScoredTokens,
    };
}
