using System.CommandLine;
using EdgeLm.Compression.Importance;
using EdgeLm.Runtime;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// <c>edgelm imatrix -m MODEL -f CALIBRATION.txt -o FILE</c>: activation statistics for <c>quantize --imatrix</c>, in
/// llama.cpp's imatrix formats so either tool can use the other's files.
/// </summary>
internal static class ImatrixCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var json = CommonOptions.Json();
        var file = new Option<string>("--file", "-f") { Description = "calibration text", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "importance matrix to write (.gguf, or .dat for the legacy format)", Required = true };
        var context = new Option<int>("--ctx-size", "-c") { Description = "chunk length in tokens", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int?>("--chunks") { Description = "use at most this many chunks" };
        var format = new Option<string?>("--output-format") { Description = "gguf or dat (default: dat for a .dat file name, else gguf)" };
        var processOutput = new Option<bool>("--process-output") { Description = "also collect statistics for output.weight" };

        var command = new Command("imatrix", "Compute an importance matrix (llama.cpp's imatrix) from a calibration text, for quantize --imatrix.")
        {
            model, threads, json, file, output, context, chunks, format, processOutput,
        };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(context);
            if (n < 1 || n > 1 << 20)
                throw new UsageException($"--ctx-size must be between 1 and {1 << 20}, got {n}.");
            int? maxChunks = parse.GetValue(chunks);
            if (maxChunks is <= 0)
                throw new UsageException($"--chunks must be positive, got {maxChunks}.");
            string outPath = parse.GetValue(output)!;
            string? folder = Path.GetDirectoryName(Path.GetFullPath(outPath));
            if (folder is not null && !Directory.Exists(folder))
                throw new UsageException($"--output: folder '{folder}' does not exist.");
            var outFormat = parse.GetValue(format)?.ToLowerInvariant() switch
            {
                null => ImportanceMatrixFile.FormatForPath(outPath),
                "gguf" => ImportanceMatrixFormat.Gguf,
                "dat" => ImportanceMatrixFormat.Legacy,
                var other => throw new UsageException($"--output-format must be gguf or dat, got '{other}'."),
            };
            string calibration = parse.GetValue(file)!;
            string text = CommonOptions.ReadTextFile(calibration, "--file");

            using var lm = LanguageModel.Load(CommonOptions.ResolveModel(parse.GetValue(model)));
            int[] tokens = lm.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
            if (tokens.Length < n)
                throw new UsageException($"the calibration text tokenizes to {tokens.Length} tokens, fewer than one chunk of --ctx-size {n}.");
            bool quiet = parse.GetValue(json);
            var options = new ImportanceOptions
            {
                ContextLength = n,
                MaxChunks = maxChunks,
                Threads = CommonOptions.CheckThreads(parse.GetValue(threads)),
                IncludeOutput = parse.GetValue(processOutput),
                Dataset = calibration,
                // A running count only for a person watching a terminal.
                Progress = quiet || !ReferenceEquals(console.Error, Console.Error) || Console.IsErrorRedirected ? null
                    : (done, total) => console.Error.Write($"\rimatrix: chunk {done}/{total}" + (done == total ? "\n" : "")),
            };
            var matrix = ImportanceCollector.Collect(lm, tokens, options);
            ImportanceMatrixFile.Write(matrix, outPath, outFormat);
            if (quiet)
                console.WriteJson(new { path = outPath, format = outFormat == ImportanceMatrixFormat.Gguf ? "gguf" : "dat", entries = matrix.Count, chunks = matrix.ChunkCount, tokens = matrix.ChunkCount * n });
            else
                console.Output.WriteLine($"wrote {outPath}: {matrix.Count} weight matrices, {matrix.ChunkCount} chunks of {n} tokens ({(outFormat == ImportanceMatrixFormat.Gguf ? "GGUF" : "legacy .dat")} format)");
            return EdgeLmCli.Success;
        });
        return command;
    }
}
