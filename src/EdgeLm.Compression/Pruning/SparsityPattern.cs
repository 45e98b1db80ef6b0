using System.Globalization;

namespace EdgeLm.Compression.Pruning;

/// <summary>
/// Semi-structured N:M sparsity: in every group of <see cref="M"/> consecutive input weights of a row, only
/// <see cref="N"/> stay non-zero (2:4 is what sparse tensor cores accelerate). The sparsity is 1 - N/M.
/// </summary>
public readonly record struct SparsityPattern
{
    /// <summary>Creates an N:M pattern; 0 &lt; N &lt; M &lt;= 64.</summary>
    /// <exception cref="ArgumentOutOfRangeException">N or M out of range.</exception>
    public SparsityPattern(int n, int m)
    {
        if (m is < 2 or > 64)
            throw new ArgumentOutOfRangeException(nameof(m), m, "The group size M must be between 2 and 64.");
        if (n < 1 || n >= m)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"N must be between 1 and {m - 1} for groups of {m}.");
        N = n;
        M = m;
    }

    /// <summary>Weights kept per group.</summary>
    public int N { get; }

    /// <summary>Group size: consecutive input weights of one row.</summary>
    public int M { get; }

    /// <summary>The fraction of weights zeroed: 1 - N/M.</summary>
    public double Sparsity => 1.0 - (double)N / M;

    /// <summary>Parses "N:M", e.g. "2:4" or "4:8".</summary>
    /// <exception cref="FormatException">Not of the form N:M with 0 &lt; N &lt; M &lt;= 64.</exception>
    public static SparsityPattern Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().Split(':');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int m)
            || m is < 2 or > 64 || n < 1 || n >= m)
            throw new FormatException($"'{text}' is not an N:M sparsity pattern with 0 < N < M <= 64 (e.g. 2:4 or 4:8).");
        return new SparsityPattern(n, m);
    }

    /// <inheritdoc />
    public override string ToString() => $"{N}:{M}";
}
