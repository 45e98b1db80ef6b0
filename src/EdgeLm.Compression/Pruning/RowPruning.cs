namespace EdgeLm.Compression.Pruning;

/// <summary>
/// The selection kernels of unstructured pruning, one weight row at a time. A row is the comparison group (as in
/// Wanda): its weights compete only with each other, by a score per weight, and the lowest-scoring ones become zero.
/// </summary>
public static class RowPruning
{
    /// <summary>
    /// How many of <paramref name="rowLength"/> weights a row loses at <paramref name="sparsity"/>:
    /// floor(sparsity x rowLength), as Wanda counts (a tiny tolerance keeps 0.5 x 64 at 32 despite rounding).
    /// </summary>
    public static int PrunedCount(int rowLength, double sparsity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowLength);
        if (!(sparsity >= 0 && sparsity <= 1))
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "Sparsity must be between 0 and 1.");
        return Math.Min(rowLength, (int)Math.Floor(sparsity * rowLength + 1e-9));
    }

    /// <summary>
    /// Magnitude scores: score_j = |w_j|.
    /// </summary>
    public static void MagnitudeScores(ReadOnlySpan<float> row, Span<float> scores)
    {
        CheckLengths(row.Length, scores.Length);
        for (int j = 0; j < row.Length; j++)
            scores[j] = MathF.Abs(row[j]);
    }

    /// <summary>
    /// Wanda scores: score_j = |w_j| x ||X_j||_2, where <paramref name="columnNorms"/>[j] is the L2 norm of input
    /// column j over the calibration tokens (the square root of the imatrix sum of squares).
    /// </summary>
    public static void WandaScores(ReadOnlySpan<float> row, ReadOnlySpan<float> columnNorms, Span<float> scores)
    {
        CheckLengths(row.Length, scores.Length);
        CheckLengths(row.Length, columnNorms.Length);
        for (int j = 0; j < row.Length; j++)
            scores[j] = MathF.Abs(row[j]) * columnNorms[j];
    }

    /// <summary>
    /// Zeroes the <paramref name="count"/> weights of <paramref name="row"/> with the lowest scores (equal scores go
    /// lowest index first, so the choice is deterministic). <paramref name="order"/> is scratch of the row's length.
    /// </summary>
    public static void PruneLowest(Span<float> row, ReadOnlySpan<float> scores, int count, Span<int> order, Span<float> keys)
    {
        CheckLengths(row.Length, scores.Length);
        CheckLengths(row.Length, order.Length);
        CheckLengths(row.Length, keys.Length);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, row.Length);
        if (count == 0)
            return;
        for (int j = 0; j < row.Length; j++)
            order[j] = j;
        scores.CopyTo(keys);
        keys.Sort(order);
        // Sort is not stable: settle equal scores at the cut by index so the same input always prunes the same weights.
        float cut = keys[count - 1];
        int firstTie = count - 1, lastTie = count - 1;
        while (firstTie > 0 && keys[firstTie - 1] == cut)
            firstTie--;
        while (lastTie + 1 < keys.Length && keys[lastTie + 1] == cut)
            lastTie++;
        if (lastTie > firstTie)
            order.Slice(firstTie, lastTie - firstTie + 1).Sort();
        for (int i = 0; i < count; i++)
            row[order[i]] = 0f;
    }

    /// <summary>
    /// N:M pruning: in each group of M consecutive weights of <paramref name="row"/>, zeroes the M - N with the lowest
    /// scores (equal scores: lowest index first). The row length must be a multiple of M.
    /// </summary>
    public static void PruneGroups(Span<float> row, ReadOnlySpan<float> scores, SparsityPattern pattern)
    {
        CheckLengths(row.Length, scores.Length);
        int m = pattern.M, drop = m - pattern.N;
        if (row.Length % m != 0)
            throw new ArgumentException($"A row of {row.Length} weights does not split into groups of {m}.", nameof(row));
        Span<bool> pruned = stackalloc bool[m];
        for (int g = 0; g < row.Length; g += m)
        {
            pruned.Clear();
            // Selection by repeated minimum: M is at most 64, and typically 4 or 8.
            for (int d = 0; d < drop; d++)
            {
                int best = -1;
                for (int j = 0; j < m; j++)
                {
                    if (!pruned[j] && (best < 0 || scores[g + j] < scores[g + best]))
                        best = j;
                }
                pruned[best] = true;
                row[g + best] = 0f;
            }
        }
    }

    private static void CheckLengths(int expected, int actual)
    {
        if (expected != actual)
            throw new ArgumentException($"Spans of {expected} and {actual} elements do not match.");
    }
}
