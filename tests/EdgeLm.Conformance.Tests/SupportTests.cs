using EdgeLm.Conformance.Tests.Support;

namespace EdgeLm.Conformance.Tests;

public sealed class SupportTests
{
    [Fact]
    public void KlDivergenceMatchesAHandWorkedTwoTokenCase()
    {
        // softmax([0, ln 3]) = (1/4, 3/4); softmax([5, 5]) = (1/2, 1/2).
        var expected = 0.25 * Math.Log(0.25 / 0.5) + 0.75 * Math.Log(0.75 / 0.5);
        Assert.Equal(expected, LogitComparison.KlDivergence([0f, MathF.Log(3)], [5f, 5f]), 6);
        Assert.Equal(0, LogitComparison.KlDivergence([1f, 2f, 3f], [11f, 12f, 13f]), 9); // shift-invariant
        Assert.Throws<ArgumentException>(() => LogitComparison.KlDivergence([1f], [1f, 2f]));
    }

    [Fact]
    public void LogSumExpDoesNotOverflowOnLargeLogits()
    {
        Assert.Equal(1000 + Math.Log(2), LogitComparison.LogSumExp([1000f, 1000f]), 9);
    }

    [Fact]
    public void ArgMaxTakesTheFirstOfEqualMaximaAndSkipsNaN()
    {
        Assert.Equal(1, LogitComparison.ArgMax([1f, 3f, 3f, 2f]));
        Assert.Equal(2, LogitComparison.ArgMax([float.NaN, -1f, 0f]));
    }

    [Fact]
    public void TokenizerVectorFilePairsInputsWithLinesAndRejectsMismatches()
    {
        var dir = Directory.CreateTempSubdirectory("edgelm-vectors-");
        try
        {
            var inp = Path.Combine(dir.FullName, "v.gguf.inp");
            File.WriteAllText(inp, "a b\n__ggml_vocab_test__\n\n__ggml_vocab_test__\nline1\nline2\n__ggml_vocab_test__\n");
            File.WriteAllText(Path.ChangeExtension(inp, ".out"), " 5 6\n\n 7 8 9\n");
            var vectors = TokenizerVectorFile.Read(inp);

            Assert.Equal(["a b", "", "line1\nline2"], vectors.Select(v => v.Text));
            Assert.Equal([5, 6], vectors[0].Expected);
            Assert.Empty(vectors[1].Expected);
            Assert.Equal([7, 8, 9], vectors[2].Expected);

            File.WriteAllText(Path.ChangeExtension(inp, ".out"), " 5 6\n");
            Assert.Throws<InvalidDataException>(() => TokenizerVectorFile.Read(inp));
            File.WriteAllText(Path.ChangeExtension(inp, ".out"), " 5 x\n\n 7\n");
            Assert.Throws<InvalidDataException>(() => TokenizerVectorFile.Read(inp));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
