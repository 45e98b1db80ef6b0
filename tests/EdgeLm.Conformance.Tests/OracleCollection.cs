namespace EdgeLm.Conformance.Tests;

/// <summary>Tests that call llama.cpp run one at a time: the native library is not entered concurrently.</summary>
[CollectionDefinition(Name)]
public sealed class OracleCollection
{
    public const string Name = "llama.cpp oracle";
}
