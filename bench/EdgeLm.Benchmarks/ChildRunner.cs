using System.Diagnostics;
using System.Text.Json;

namespace EdgeLm.Benchmarks;

/// <summary>A measurement round in a child process failed; the message quotes the end of its standard error.</summary>
internal sealed class ChildFailedException(string message) : Exception(message);

/// <summary>
/// Runs one measurement round in a fresh child process (this program again, with --child), so each engine's peak RSS
/// is its own: nothing the other engine mapped or allocated, and no leftover from an earlier round.
/// </summary>
internal static class ChildRunner
{
    public static RoundResult Run(string engine, string model, ProtocolSettings s)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? throw new InvalidOperationException("No path to this program."))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Under `dotnet EdgeLm.Benchmarks.dll` the process is the dotnet host: pass it the assembly again.
        if (Path.GetFileNameWithoutExtension(start.FileName).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(typeof(ChildRunner).Assembly.Location);
        // libgomp reads its settings when it loads, from the environment the process started with.
        if (EngineNames.OmpWaitPolicy(engine) is { } policy)
            start.Environment["OMP_WAIT_POLICY"] = policy;
        else
            start.Environment.Remove("OMP_WAIT_POLICY");
        foreach (string arg in new[]
        {
            "--child", engine, "--model", model,
            "-t", s.Threads.ToString(), "-p", s.PromptTokens.ToString(), "-n", s.GeneratedTokens.ToString(),
            "--ttft-prompt", s.FirstTokenPromptTokens.ToString(),
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new ChildFailedException($"Could not start {start.FileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        string output = stdout.Result, error = stderr.Result;
        if (process.ExitCode != 0)
            throw new ChildFailedException($"{engine} on {Path.GetFileName(model)} exited with {process.ExitCode}: {Tail(error)}");
        string? last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        if (last is null)
            throw new ChildFailedException($"{engine} on {Path.GetFileName(model)} printed nothing: {Tail(error)}");
        try
        {
            return JsonSerializer.Deserialize<RoundResult>(last, Json.Options)
                ?? throw new ChildFailedException($"{engine} printed null.");
        }
        catch (JsonException e)
        {
            throw new ChildFailedException($"{engine} on {Path.GetFileName(model)} printed no result ({e.Message}): {Tail(last)}");
        }
    }

    /// <summary>The child side: one round, its result as one JSON line on standard output.</summary>
    public static int ChildMain(BenchArguments a)
    {
        var result = Protocol.MeasureRound(a.Child!, a.Model!, a.Protocol);
        Console.Out.WriteLine(JsonSerializer.Serialize(result, Json.Options));
        return 0;
    }

    private static string Tail(string text)
    {
        text = text.Trim();
        return text.Length <= 800 ? text : "..." + text[^800..];
    }
}
