using EdgeLm.Compression.Pruning;

namespace EdgeLm.Compression.Tests.Pruning;

public class RowPruningTests
{
    [Theory]
    [InlineData(64, 0.5, 32)]
    [InlineData(172, 0.5, 86)]
    [InlineData(10, 0.25, 2)] // floor(2.5)
    [InlineData(100, 0.3, 30)] // 0.3 x 100 is 29.999... in binary; still 30
    [InlineData(7, 0.0, 0)]
    public void PrunedCountIsTheFloorOfSparsityTimesLength(int length, double sparsity, int expected) =>
        Assert.Equal(expected, RowPruning.PrunedCount(length, sparsity));

    [Fact]
    public void WandaKeepsSmallWeightsOnLoudInputsThatMagnitudeWouldDrop()
    {
        // Row (1, 2, 3, 4) with input norms (10, 1, 1, 1): Wanda scores (10, 2, 3, 4), magnitude (1, 2, 3, 4).
        float[] row = [1, -2, 3, -4];
        var scores = new float[4];
        RowPruning.WandaScores(row, [10, 1, 1, 1], scores);
        Assert.Equal([10f, 2f, 3f, 4f], scores);
        var wanda = (float[])row.Clone();
        RowPruning.PruneLowest(wanda, scores, 2, new int[4], new float[4]);
        Assert.Equal([1f, 0f, 0f, -4f], wanda);

        RowPruning.MagnitudeScores(row, scores);
        var magnitude = (float[])row.Clone();
        RowPruning.PruneLowest(magnitude, scores, 2, new int[4], new float[4]);
        Assert.Equal([0f, 0f, 3f, -4f], magnitude);
    }

    [Fact]
    public void EqualScoresArePrunedLowestIndexFirst()
    {
        float[] row = [5, 5, 5, 5, 1, 5];
        float[] scores = [2, 2, 2, 2, 1, 2];
        RowPruning.PruneLowest(row, scores, 3, new int[6], new float[6]);
        Assert.Equal([0f, 0f, 5f, 5f, 0f, 5f], row);
    }

    [Fact]
    public void GroupsKeepTheirNHighestScores()
    {
        float[] row = [1, 2, 3, 4, /**/ 8, 7, 6, 5, /**/ 0.5f, -9, 0.25f, 3];
        var scores = new float[row.Length];
        RowPruning.MagnitudeScores(row, scores);
        RowPruning.PruneGroups(row, scores, new SparsityPattern(2, 4));
        Assert.Equal([0f, 0f, 3f, 4f, /**/ 8f, 7f, 0f, 0f, /**/ 0f, -9f, 0f, 3f], row);
    }

    [Fact]
    public void ARowThatDoesNotSplitIntoGroupsIsRefused() =>
        Assert.Throws<ArgumentException>(() => RowPruning.PruneGroups(new float[6], new float[6], new SparsityPattern(2, 4)));

    [Theory]
    [InlineData("2:4", 2, 4)]
    [InlineData("4:8", 4, 8)]
    [InlineData(" 1:2 ", 1, 2)]
    public void PatternsParse(string text, int n, int m)
    {
        var p = SparsityPattern.Parse(text);
        Assert.Equal((n, m), (p.N, p.M));
        Assert.Equal(1.0 - (double)n / m, p.Sparsity, 12);
        Assert.Equal($"{n}:{m}", p.ToString());
    }

    [Theory]
    [InlineData("4:4")]
    [InlineData("0:4")]
    [InlineData("2")]
    [InlineData("2:4:8")]
    [InlineData("-1:4")]
    [InlineData("a:b")]
    [InlineData("2:128")]
    public void BadPatternsAreRefused(string text) =>
        Assert.Throws<FormatException>(() => SparsityPattern.Parse(text));
}
