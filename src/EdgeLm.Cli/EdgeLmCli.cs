using System.CommandLine;
using EdgeLm.Cli.Commands;
using EdgeLm.Gguf;
using EdgeLm.Runtime;
using EdgeLm.Tokenizers;

namespace EdgeLm.Cli;

/// <summary>
/// The <c>edgelm</c> command line. Exit codes: 0 success, 2 bad usage, 1 any other error; the message goes to
/// standard error. Callable in-process (tests do) with any pair of writers.
/// </summary>
public static class EdgeLmCli
{
    /// <summary>Exit code of a successful run.</summary>
    public const int Success = 0;

    /// <summary>Exit code of a run that failed for a reason other than its command line.</summary>
    public const int Failure = 1;

    /// <summary>Exit code of a bad command line.</summary>
    public const int BadUsage = 2;

    /// <summary>
    /// Parses <paramref name="args"/> and runs the verb, writing to <paramref name="output"/> and <paramref name="error"/>
    /// and reading <paramref name="input"/> (interactive verbs only).
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, TextReader? input = null)
    {
        var console = new CliConsole(output, error, input);
        var root = new RootCommand("EdgeLm: run GGUF language models on this CPU, offline.")
        {
            RunCommand.Create(console),
            TokenizeCommand.Create(console),
            LogitsCommand.Create(console),
            PerplexityCommand.Create(console),
            InspectCommand.Create(console),
            SynthCommand.Create(console),
            BenchCommand.Create(console),
            QuantizeCommand.Create(console),
            ImatrixCommand.Create(console),
            KldCommand.Create(console),
            ReportCommand.Create(console),
            FitCommand.Create(console),
            ServeCommand.Create(console),
            ChatCommand.Create(console),
            PruneCommand.Create(console),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors)
                error.WriteLine($"edgelm: {e.Message}");
            error.WriteLine("Try 'edgelm --help'.");
            return BadUsage;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            error.WriteLine($"edgelm: {e.Message}");
            return BadUsage;
        }
        catch (Exception e) when (e is GgufFormatException or ModelFormatException or ContextOverflowException or IOException
                                      or InvalidDataException or UnauthorizedAccessException or TokenizerFormatException)
        {
            // Expected failures: bad files, a prompt over the context, a disk problem. The message says it all.
            error.WriteLine($"edgelm: error: {e.Message}");
            return Failure;
        }
        catch (Exception e)
        {
            // Anything else is a bug in EdgeLm; say what it was rather than crash with a stack trace.
            error.WriteLine($"edgelm: error: {e.GetType().Name}: {e.Message}");
            return Failure;
        }
    }
}
