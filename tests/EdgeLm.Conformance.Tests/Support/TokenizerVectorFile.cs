using System.Globalization;
using System.Text;

namespace EdgeLm.Conformance.Tests.Support;

/// <summary>One tokenizer test case from llama.cpp's vectors: an input text and the ids it must tokenize to.</summary>
public sealed record TokenizerVector(int Index, string Text, int[] Expected);

/// <summary>
/// Reads llama.cpp's tokenizer vectors: NAME.inp holds inputs, each followed by a line "__ggml_vocab_test__";
/// NAME.out holds one line per input with the expected ids separated by spaces (no BOS; specials not parsed).
/// </summary>
public static class TokenizerVectorFile
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    /// <summary>Pairs the inputs of <paramref name="inpPath"/> with the lines of the matching .out file.</summary>
    /// <exception cref="InvalidDataException">The files are malformed or disagree on the number of cases.</exception>
    public static IReadOnlyList<TokenizerVector> Read(string inpPath)
    {
        var outPath = Path.ChangeExtension(inpPath, ".out");
        var inputs = File.ReadAllText(inpPath, Encoding.UTF8).Split(Separator);
        if (inputs[^1].Length != 0)
            throw new InvalidDataException($"{inpPath} does not end with a __ggml_vocab_test__ line.");
        var lines = File.ReadAllText(outPath, Encoding.UTF8).Split('\n');
        if (lines[^1].Length != 0)
            throw new InvalidDataException($"{outPath} does not end with a newline.");
        if (lines.Length != inputs.Length)
            throw new InvalidDataException($"{inpPath} has {inputs.Length - 1} inputs but {outPath} has {lines.Length - 1} lines.");

        var vectors = new TokenizerVector[inputs.Length - 1];
        for (var i = 0; i < vectors.Length; i++)
            vectors[i] = new TokenizerVector(i, inputs[i], ParseIds(lines[i], outPath, i + 1));
        return vectors;
    }

    /// <summary>Parses space-separated token ids; an empty line is an empty sequence.</summary>
    public static int[] ParseIds(string line, string fileForErrors, int lineNumber)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
                throw new InvalidDataException($"{fileForErrors}:{lineNumber}: '{parts[i]}' is not a token id.");
        }
        return ids;
    }
}
