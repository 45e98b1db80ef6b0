using System.Globalization;

namespace EdgeLm.Compression.Fitting;

/// <summary>
/// Memory sizes as people write them: a plain byte count (<c>1048576</c>), or a number with a unit. Decimal units
/// (<c>KB</c>, <c>MB</c>, <c>GB</c>, <c>TB</c>) are powers of 1000; binary units (<c>KiB</c>, <c>MiB</c>, <c>GiB</c>,
/// <c>TiB</c>) and the bare letters (<c>K</c>, <c>M</c>, <c>G</c>, <c>T</c>, as in <c>-Xmx800M</c> or <c>docker -m</c>)
/// are powers of 1024. <c>B</c> alone means bytes. Case and a space before the unit do not matter; fractions are
/// allowed (<c>1.5GiB</c>) and round down to whole bytes.
/// </summary>
public static class ByteSize
{
    private static readonly (string Unit, long Factor)[] Units =
    [
        ("KIB", 1L << 10), ("MIB", 1L << 20), ("GIB", 1L << 30), ("TIB", 1L << 40),
        ("KB", 1_000L), ("MB", 1_000_000L), ("GB", 1_000_000_000L), ("TB", 1_000_000_000_000L),
        ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30), ("T", 1L << 40),
        ("B", 1),
    ];

    /// <summary>Reads <paramref name="text"/>; false (and 0) for anything that is not a positive size under 2^63 bytes.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
            return false;
        string s = text.Trim().ToUpperInvariant();
        long factor = 1;
        foreach (var (unit, f) in Units)
        {
            if (s.EndsWith(unit, StringComparison.Ordinal))
            {
                factor = f;
                s = s[..^unit.Length].TrimEnd();
                break;
            }
        }
        // Digits with at most one decimal point: no signs, exponents, thousands separators or "NaN".
        if (s.Length == 0 || s.Count(c => c == '.') > 1 || s.Any(c => c != '.' && !char.IsAsciiDigit(c)) || s == ".")
            return false;
        if (!decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value))
            return false;
        decimal total = value * factor;
        if (total < 1 || total >= long.MaxValue)
            return false;
        bytes = (long)decimal.Floor(total);
        return true;
    }

    /// <summary>Reads <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">Not a size (the message gives examples of what is).</exception>
    public static long Parse(string text) => TryParse(text, out long bytes) ? bytes
        : throw new FormatException($"'{text}' is not a memory size; write e.g. 512MB, 1.5GiB, 800M or a byte count.");

    /// <summary>A short human-readable form in binary units, e.g. <c>1.50 GiB</c>, <c>812.3 KiB</c>, <c>96 B</c>.</summary>
    public static string Format(long bytes)
    {
        string[] names = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int i = 0;
        while (Math.Abs(v) >= 1024 && i < names.Length - 1)
        {
            v /= 1024;
            i++;
        }
        return i == 0 ? $"{bytes} B" : v.ToString(v >= 100 ? "0.0" : "0.00", CultureInfo.InvariantCulture) + " " + names[i];
    }
}
