using System.Text.Json;
using EdgeLm.Cli;

namespace EdgeLm.Cli.Tests;

/// <summary>Runs the CLI in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public JsonElement Json => JsonDocument.Parse(Output).RootElement;
    }

    public static Result Run(params string[] args) => RunWithInput("", args);

    /// <summary>Runs with <paramref name="input"/> as standard input (for the interactive chat).</summary>
    public static Result RunWithInput(string input, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = EdgeLmCli.Run(args, output, error, new StringReader(input));
        return new Result(code, output.ToString(), error.ToString());
    }
}
