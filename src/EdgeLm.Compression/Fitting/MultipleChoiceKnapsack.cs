using System.Diagnostics;

namespace EdgeLm.Compression.Fitting;

/// <summary>One way to store one item: its cost in bytes and the error it brings.</summary>
/// <param name="Cost">Bytes, at least 0.</param>
/// <param name="Error">Error (any non-negative measure that adds up over items).</param>
public readonly record struct KnapsackOption(long Cost, double Error);

/// <summary>
/// The multiple-choice knapsack: pick exactly one option per item so that the costs add up to at most a capacity
/// and the errors add up to as little as possible. Solved by dynamic programming over the cost above each item's
/// cheapest option, in buckets of <c>unit</c> bytes with every extra cost rounded UP to whole buckets (so whatever
/// the DP picks fits the exact capacity), then a greedy fix-up spends the bytes the rounding left over on the
/// upgrades with the best error saved per byte. With a unit of 1 byte (capacity slack up to
/// <see cref="MaxBuckets"/>) the result is optimal.
/// </summary>
public static class MultipleChoiceKnapsack
{
    /// <summary>Most buckets the DP uses: the bucket is 1 byte when the slack over the cheapest choice is at most this.</summary>
    public const int MaxBuckets = 1 << 16;

    /// <summary>
    /// The option chosen for each item, or null when even the cheapest options together exceed <paramref name="capacity"/>.
    /// </summary>
    /// <param name="items">[items][options]; every item needs at least one option.</param>
    /// <param name="capacity">Most total cost allowed.</param>
    /// <param name="maxBuckets">Buckets for the DP (tests use small values to exercise the rounding).</param>
    public static int[]? Solve(IReadOnlyList<IReadOnlyList<KnapsackOption>> items, long capacity, int maxBuckets = MaxBuckets)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBuckets, 1);
        int n = items.Count;
        var cheapest = new int[n];
        long baseCost = 0;
        for (int i = 0; i < n; i++)
        {
            var options = items[i];
            if (options.Count == 0)
                throw new ArgumentException($"Item {i} has no options.", nameof(items));
            for (int k = 0; k < options.Count; k++)
            {
                if (options[k].Cost < 0 || !(options[k].Error >= 0) || double.IsInfinity(options[k].Error))
                    throw new ArgumentException($"Item {i} option {k}: cost {options[k].Cost} and error {options[k].Error} must be non-negative and finite.", nameof(items));
                var least = options[cheapest[i]];
                if (options[k].Cost < least.Cost || (options[k].Cost == least.Cost && options[k].Error < least.Error))
                    cheapest[i] = k;
            }
            baseCost += options[cheapest[i]].Cost;
        }
        if (baseCost > capacity)
            return null;

        long slack = capacity - baseCost;
        long unit = Math.Max(1, (slack + maxBuckets - 1) / maxBuckets);
        int buckets = (int)(slack / unit);

        // best[b] = least error of the items so far using at most b buckets of extra cost; choice[i][b] the option of item i there.
        var best = new double[buckets + 1];
        var next = new double[buckets + 1];
        var choice = new int[n][];
        for (int i = 0; i < n; i++)
        {
            var options = items[i];
            long minCost = options[cheapest[i]].Cost;
            var pick = choice[i] = new int[buckets + 1];
            Array.Fill(next, double.PositiveInfinity);
            for (int k = 0; k < options.Count; k++)
            {
                long extra = (options[k].Cost - minCost + unit - 1) / unit;
                if (extra > buckets)
                    continue;
                double e = options[k].Error;
                for (int b = (int)extra; b <= buckets; b++)
                {
                    double v = best[b - (int)extra] + e;
                    if (v < next[b])
                    {
                        next[b] = v;
                        pick[b] = k;
                    }
                }
            }
            (best, next) = (next, best);
        }

        var chosen = new int[n];
        int at = buckets;
        for (int i = n - 1; i >= 0; i--)
        {
            int k = choice[i][at];
            chosen[i] = k;
            at -= (int)((items[i][k].Cost - items[i][cheapest[i]].Cost + unit - 1) / unit);
        }
        Debug.Assert(at >= 0);
        FixUp(items, chosen, capacity);
        return chosen;
    }

    /// <summary>Total cost of <paramref name="chosen"/>.</summary>
    public static long Cost(IReadOnlyList<IReadOnlyList<KnapsackOption>> items, IReadOnlyList<int> chosen)
    {
        long sum = 0;
        for (int i = 0; i < items.Count; i++)
            sum += items[i][chosen[i]].Cost;
        return sum;
    }

    /// <summary>Total error of <paramref name="chosen"/>.</summary>
    public static double Error(IReadOnlyList<IReadOnlyList<KnapsackOption>> items, IReadOnlyList<int> chosen)
    {
        double sum = 0;
        for (int i = 0; i < items.Count; i++)
            sum += items[i][chosen[i]].Error;
        return sum;
    }

    /// <summary>
    /// Spends the exact bytes left under the capacity: repeatedly switches the one item whose switch saves the most
    /// error per extra byte among the switches that still fit (free ones first), until none helps.
    /// </summary>
    private static void FixUp(IReadOnlyList<IReadOnlyList<KnapsackOption>> items, int[] chosen, long capacity)
    {
        long left = capacity - Cost(items, chosen);
        Debug.Assert(left >= 0);
        while (true)
        {
            int bestItem = -1, bestOption = -1;
            double bestRate = 0;
            for (int i = 0; i < items.Count; i++)
            {
                var current = items[i][chosen[i]];
                for (int k = 0; k < items[i].Count; k++)
                {
                    var o = items[i][k];
                    long extra = o.Cost - current.Cost;
                    double saved = current.Error - o.Error;
                    if (extra > left || saved <= 0 && !(saved == 0 && extra < 0))
                        continue;
                    double rate = extra <= 0 ? double.PositiveInfinity : saved / extra;
                    if (bestItem < 0 || rate > bestRate)
                    {
                        bestItem = i;
                        bestOption = k;
                        bestRate = rate;
                    }
                }
            }
            if (bestItem < 0)
                return;
            left -= items[bestItem][bestOption].Cost - items[bestItem][chosen[bestItem]].Cost;
            chosen[bestItem] = bestOption;
        }
    }
}
