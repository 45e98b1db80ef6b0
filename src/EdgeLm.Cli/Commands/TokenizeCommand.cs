using System.CommandLine;
using System.Text.Json;
using EdgeLm.Gguf;
using EdgeLm.Tokenizers;

namespace EdgeLm.Cli.Commands;

/// <summary>
/// <c>edgelm tokenize</c>: token ids of a text. Needs only the vocabulary, so vocabulary-only GGUF files work too.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var text = new Argument<string?>("TEXT") { Description = "text to tokenize", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string?>("--file", "-f") { Description = "tokenize this file's text" };
        var batch = new Option<string?>("--batch") { Description = "JSON-lines file: one JSON string per line in, one {\"tokens\":[..]} object per line out" };
        var noBos = new Option<bool>("--no-bos") { Description = "do not add BOS/EOS" };
        var noParseSpecial = new Option<bool>("--no-parse-special") { Description = "treat special-token text such as <s> as plain text" };

        var command = new Command("tokenize", "Print the token ids of a text.") { model, json, text, file, batch, noBos, noParseSpecial };
        command.SetAction(parse =>
        {
            string? inline = parse.GetValue(text), path = parse.GetValue(file), batchPath = parse.GetValue(batch);
            int sources = (inline is null ? 0 : 1) + (path is null ? 0 : 1) + (batchPath is null ? 0 : 1);
            if (sources != 1)
                throw new UsageException("give exactly one of TEXT, --file F or --batch F.jsonl.");
            bool addSpecial = !parse.GetValue(noBos), parseSpecial = !parse.GetValue(noParseSpecial);

            using var gguf = GgufFile.Open(CommonOptions.ResolveModel(parse.GetValue(model)));
            var tokenizer = Tokenizer.FromGguf(gguf);
            if (batchPath is not null)
            {
                RunBatch(console, tokenizer, batchPath, addSpecial, parseSpecial);
                return EdgeLmCli.Success;
            }
            string input = inline ?? CommonOptions.ReadTextFile(path!, "--file");
            int[] tokens = tokenizer.Encode(input, addSpecial, parseSpecial);
            if (parse.GetValue(json))
                console.WriteJson(new { tokens });
            else
                console.Output.WriteLine(string.Join(' ', tokens));
            return EdgeLmCli.Success;
        });
        return command;
    }

    private static void RunBatch(CliConsole console, Tokenizer tokenizer, string path, bool addSpecial, bool parseSpecial)
    {
        if (!File.Exists(path))
            throw new UsageException($"--batch: file '{path}' does not exist.");
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0)
                continue;
            string? input;
            try
            {
                input = JsonSerializer.Deserialize<string>(line);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected one JSON string per line ({e.Message}).");
            }
            if (input is null)
                throw new InvalidDataException($"{path}:{lineNumber}: expected a JSON string, got null.");
            console.Output.WriteLine(CliConsole.ToJson(new { tokens = tokenizer.Encode(input, addSpecial, parseSpecial) }));
        }
    }
}
