using System.CommandLine;
using EdgeLm.Compression.Importance;
using EdgeLm.Compression.Quantization;
using EdgeLm.Numerics.Quants;
using Spectre.Console;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// <c>edgelm quantize IN OUT TYPE</c>: a quantized copy of a model with llama-quantize's types, mixes and options.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create(CliConsole console)
    {
        var json = CommonOptions.Json();
        var threads = CommonOptions.Threads();
        var input = new Argument<string>("IN") { Description = "source GGUF model (F32, F16 or BF16; quantized with --allow-requantize)" };
        var output = new Argument<string>("OUT") { Description = "GGUF file to write" };
        var type = new Argument<string>("TYPE") { Description = $"target type or mix: {string.Join(", ", FileTypes.Names.Order(StringComparer.Ordinal))}" };
        var imatrix = new Option<string?>("--imatrix") { Description = "importance matrix (llama.cpp's GGUF or legacy .dat format) guiding the quantizers" };
        var allowRequantize = new Option<bool>("--allow-requantize") { Description = "allow quantizing a model that is already quantized (loses quality)" };
        var pure = new Option<bool>("--pure") { Description = "one type for every quantized tensor: no mix rules" };
        var leaveOutput = new Option<bool>("--leave-output-tensor") { Description = "keep output.weight as it is" };
        var tensorType = new Option<string[]>("--tensor-type")
        {
            Description = "PATTERN=TYPE: tensors whose name matches the regular expression take TYPE (e.g. ffn_down=f16); repeatable",
            AllowMultipleArgumentsPerToken = false,
        };

        var command = new Command("quantize", "Write a quantized copy of a model, choosing per-tensor types as llama-quantize does.")
        {
            json, threads, input, output, type, imatrix, allowRequantize, pure, leaveOutput, tensorType,
        };
        command.SetAction(parse =>
        {
            string typeName = parse.GetValue(type)!;
            if (!FileTypes.TryParse(typeName, out var fileType))
                throw new UsageException($"unsupported target type '{typeName}'; EdgeLm writes {string.Join(", ", FileTypes.Names.Order(StringComparer.Ordinal))}.");
            string source = parse.GetValue(input)!;
            if (!File.Exists(source))
                throw new UsageException($"model file '{source}' does not exist.");
            string target = parse.GetValue(output)!;
            string? folder = Path.GetDirectoryName(Path.GetFullPath(target));
            if (folder is not null && !Directory.Exists(folder))
                throw new UsageException($"OUT: folder '{folder}' does not exist.");
            string? imatrixPath = parse.GetValue(imatrix);
            if (imatrixPath is not null && !File.Exists(imatrixPath))
                throw new UsageException($"--imatrix: file '{imatrixPath}' does not exist.");
            var overrides = (parse.GetValue(tensorType) ?? []).Select(ParseOverride).ToList();

            ImportanceMatrix? matrix;
            try
            {
                matrix = imatrixPath is null ? null : ImportanceMatrixFile.Read(imatrixPath);
            }
            catch (ImportanceMatrixFormatException e)
            {
                console.Error.WriteLine($"edgelm: error: {e.Message}");
                return EdgeLmCli.Failure;
            }
            var options = new QuantizeOptions
            {
                FileType = fileType,
                Threads = CommonOptions.CheckThreads(parse.GetValue(threads)),
                Importance = matrix,
                ImportancePath = imatrixPath,
                AllowRequantize = parse.GetValue(allowRequantize),
                Pure = parse.GetValue(pure),
                QuantizeOutputTensor = !parse.GetValue(leaveOutput),
                TensorTypes = overrides,
            };

            QuantizationReport report;
            try
            {
                report = ShowsProgress(console, parse.GetValue(json))
                    ? WithProgressBar(source, target, options)
                    : ModelQuantizer.Quantize(source, target, options);
            }
            catch (QuantizationException e)
            {
                console.Error.WriteLine($"edgelm: error: {e.Message}");
                return EdgeLmCli.Failure;
            }
            foreach (var warning in report.Warnings)
                console.Error.WriteLine($"edgelm: warning: {warning}");
            if (parse.GetValue(json))
            {
                console.WriteJson(new
                {
                    path = target,
                    type = fileType.ToString(),
                    bits_per_weight = Math.Round(report.BitsPerWeight, 4),
                    bytes = new FileInfo(target).Length,
                    seconds = Math.Round(report.Elapsed.TotalSeconds, 3),
                });
            }
            else
            {
                console.Output.WriteLine($"wrote {target}: {fileType}, {report.BitsPerWeight:F2} bits per weight, " +
                    $"{report.OriginalBytes / 1048576.0:F2} MiB -> {report.QuantizedBytes / 1048576.0:F2} MiB of tensors in {report.Elapsed.TotalSeconds:F1} s");
                foreach (var group in report.Tensors.Where(t => t.Converts).GroupBy(t => t.TargetType).OrderBy(g => g.Key))
                    console.Output.WriteLine($"  {group.Key,-5} {group.Count(),4} tensors");
            }
            return EdgeLmCli.Success;
        });
        return command;
    }

    private static TensorTypeOverride ParseOverride(string text)
    {
        int eq = text.LastIndexOf('=');
        if (eq <= 0 || eq == text.Length - 1)
            throw new UsageException($"--tensor-type '{text}': expected PATTERN=TYPE, e.g. ffn_down=f16.");
        string name = text[(eq + 1)..];
        if (!Enum.TryParse<GgmlType>(name, ignoreCase: true, out var type) || !Enum.IsDefined(type) || !Quantize.IsSupported(type) || char.IsAsciiDigit(name[0]))
            throw new UsageException($"--tensor-type '{text}': '{name}' is not a tensor type EdgeLm writes (f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k .. q6_k).");
        return new TensorTypeOverride(text[..eq].ToLowerInvariant(), type);
    }

    /// <summary>A progress bar only for a person watching: human output to a real terminal.</summary>
    private static bool ShowsProgress(CliConsole console, bool json) =>
        !json && ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected;

    private static QuantizationReport WithProgressBar(string source, string target, QuantizeOptions options)
    {
        var terminal = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        QuantizationReport? report = null;
        terminal.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask("quantizing", maxValue: 1);
                report = ModelQuantizer.Quantize(source, target, options with
                {
                    Progress = p =>
                    {
                        task.MaxValue = p.ElementsTotal;
                        task.Value = p.ElementsDone;
                        task.Description = Markup.Escape(p.Tensor);
                    },
                });
            });
        return report!;
    }
}
