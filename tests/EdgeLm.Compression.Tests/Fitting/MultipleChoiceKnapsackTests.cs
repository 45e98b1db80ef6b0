using EdgeLm.Compression.Fitting;

namespace EdgeLm.Compression.Tests.Fitting;

public class MultipleChoiceKnapsackTests
{
    private static List<IReadOnlyList<KnapsackOption>> RandomInstance(Random random, int items, int maxOptions, int maxCost)
    {
        var list = new List<IReadOnlyList<KnapsackOption>>();
        for (int i = 0; i < items; i++)
        {
            int k = random.Next(1, maxOptions + 1);
            list.Add(Enumerable.Range(0, k).Select(_ => new KnapsackOption(random.Next(0, maxCost + 1), Math.Round(random.NextDouble() * 10, 3))).ToList());
        }
        return list;
    }

    /// <summary>The least error over every combination within the capacity, or null when none fits.</summary>
    private static double? BruteForce(IReadOnlyList<IReadOnlyList<KnapsackOption>> items, long capacity)
    {
        double? best = null;
        void Walk(int i, long cost, double error)
        {
            if (cost > capacity)
                return;
            if (i == items.Count)
            {
                if (best is null || error < best)
                    best = error;
                return;
            }
            foreach (var o in items[i])
                Walk(i + 1, cost + o.Cost, error + o.Error);
        }
        Walk(0, 0, 0);
        return best;
    }

    [Fact]
    public void MatchesBruteForceOnSmallInstances()
    {
        var random = new Random(1234);
        int feasible = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            var items = RandomInstance(random, random.Next(1, 7), 4, 40);
            long capacity = random.Next(0, 120);
            var chosen = MultipleChoiceKnapsack.Solve(items, capacity);
            double? best = BruteForce(items, capacity);
            if (best is null)
            {
                Assert.Null(chosen);
                continue;
            }
            feasible++;
            Assert.NotNull(chosen);
            Assert.True(MultipleChoiceKnapsack.Cost(items, chosen) <= capacity);
            Assert.Equal(best.Value, MultipleChoiceKnapsack.Error(items, chosen), 9);
        }
        Assert.True(feasible > 100, $"only {feasible} feasible instances: the test would prove little");
    }

    [Fact]
    public void CoarseBucketsNeverExceedTheCapacityAndStayNearTheOptimum()
    {
        var random = new Random(99);
        double totalGap = 0;
        int solved = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            var items = RandomInstance(random, random.Next(2, 7), 5, 1000);
            long capacity = random.Next(500, 4000);
            // Four buckets over the slack: the extra costs are rounded up a lot, the fix-up spends what is left.
            var chosen = MultipleChoiceKnapsack.Solve(items, capacity, maxBuckets: 4);
            double? best = BruteForce(items, capacity);
            Assert.Equal(best is null, chosen is null);
            if (chosen is null)
                continue;
            Assert.True(MultipleChoiceKnapsack.Cost(items, chosen) <= capacity);
            double error = MultipleChoiceKnapsack.Error(items, chosen);
            Assert.True(error >= best!.Value - 1e-9);
            totalGap += error - best.Value;
            solved++;
        }
        // Not optimal with 4 buckets, but far better than the cheapest choice: on average within a few units of error.
        Assert.True(solved > 50);
        Assert.True(totalGap / solved < 3, $"mean gap {totalGap / solved}");
    }

    [Fact]
    public void ExactCapacityIsUsableAndOneByteLessIsNot()
    {
        List<IReadOnlyList<KnapsackOption>> items =
        [
            [new(10, 5), new(20, 1)],
            [new(7, 3), new(9, 0)],
        ];
        Assert.Null(MultipleChoiceKnapsack.Solve(items, 16));
        Assert.Equal(new[] { 0, 0 }, MultipleChoiceKnapsack.Solve(items, 17)!);
        Assert.Equal(new[] { 0, 1 }, MultipleChoiceKnapsack.Solve(items, 19)!);
        Assert.Equal(new[] { 1, 0 }, MultipleChoiceKnapsack.Solve(items, 27)!);
        Assert.Equal(new[] { 1, 1 }, MultipleChoiceKnapsack.Solve(items, 29)!);
    }

    [Fact]
    public void LargeCapacitiesUseBucketsAndStillFit()
    {
        var random = new Random(7);
        var items = RandomInstance(random, 300, 11, 50_000_000);
        long capacity = items.Sum(o => o.Min(x => x.Cost)) + 3_000_000_000L;
        var chosen = MultipleChoiceKnapsack.Solve(items, capacity);
        Assert.NotNull(chosen);
        Assert.True(MultipleChoiceKnapsack.Cost(items, chosen) <= capacity);
        // Every item at its least-error option would cost more than the capacity here, so the solver must have traded.
        Assert.True(items.Sum(o => o.MinBy(x => x.Error).Cost) > capacity);
        Assert.True(MultipleChoiceKnapsack.Error(items, chosen) < items.Sum(o => o.MinBy(x => x.Cost).Error));
    }

    [Fact]
    public void RefusesBadOptions()
    {
        Assert.Throws<ArgumentException>(() => MultipleChoiceKnapsack.Solve([[]], 10));
        Assert.Throws<ArgumentException>(() => MultipleChoiceKnapsack.Solve([[new(-1, 0)]], 10));
        Assert.Throws<ArgumentException>(() => MultipleChoiceKnapsack.Solve([[new(1, double.NaN)]], 10));
    }
}
