namespace EdgeLm.Runtime;

/// <summary>A model file that parses as GGUF but does not describe a model EdgeLm can run (missing keys, wrong shapes).</summary>
public sealed class ModelFormatException(string message) : Exception(message);
