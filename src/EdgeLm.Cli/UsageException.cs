namespace EdgeLm.Cli;

/// <summary>The command line asks for something that makes no sense; the tool exits with code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
