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

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = EdgeLmCli.Run(args, output, error);
        return new Result(code, output.ToString(), error.ToString());
    }
}
