using System.Text;
using EdgeLm.Testing;

namespace EdgeLm.Tokenizers.Tests.Support;

/// <summary>One llama.cpp tokenizer test vector: an input text and the ids llama.cpp gives it.</summary>
public sealed record VocabVector(int Index, string Text, int[] Ids);

/// <summary>
/// Reads tests/fixtures/vocab/ggml-vocab-NAME.gguf.inp/.out as llama.cpp's test-tokenizer-0 does: the whole .inp
/// file is split at "\n__ggml_vocab_test__\n" (so an input keeps its own newlines, and the file's final separator
/// leaves no empty input behind); line i of .out holds the space-separated ids of input i. Those ids were made
/// without BOS/EOS and without parsing special tokens.
/// </summary>
public static class VocabVectors
{
    private const string Separator = "\n__ggml_vocab_test__\n";

    public static IReadOnlyList<VocabVector> Load(string name)
    {
        string inputPath = RepoPaths.Fixture("vocab", $"ggml-vocab-{name}.gguf.inp");
        string outputPath = RepoPaths.Fixture("vocab", $"ggml-vocab-{name}.gguf.out");
        string raw = Encoding.UTF8.GetString(File.ReadAllBytes(inputPath));

        var inputs = new List<string>();
        for (int pos = 0; pos < raw.Length;)
        {
            int next = raw.IndexOf(Separator, pos, StringComparison.Ordinal);
            if (next < 0)
            {
                inputs.Add(raw[pos..]);
                break;
            }
            inputs.Add(raw[pos..next]);
            pos = next + Separator.Length;
        }

        string[] lines = File.ReadAllLines(outputPath, Encoding.UTF8);
        if (lines.Length != inputs.Count)
            throw new InvalidDataException($"{inputPath} has {inputs.Count} inputs but {outputPath} has {lines.Length} lines.");
        return [.. inputs.Select((text, i) => new VocabVector(i, text,
            [.. lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse)]))];
    }

    /// <summary>Shows a string with its control characters visible, for failure messages.</summary>
    public static string Show(string text) =>
        text.Replace("\\", "\\\\").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
}
