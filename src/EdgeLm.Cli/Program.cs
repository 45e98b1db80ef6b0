namespace EdgeLm.Cli;

internal static class Program
{
    private static int Main(string[] args) => EdgeLmCli.Run(args, Console.Out, Console.Error, Console.In);
}
