using System.Numerics;

namespace EdgeLm.Runtime.Grammar;

/// <summary>A set of byte values (256 bits): the terminal the compiled grammar matches one byte against.</summary>
internal readonly record struct ByteSet(ulong W0, ulong W1, ulong W2, ulong W3)
{
    /// <summary>The set of the bytes from <paramref name="low"/> to <paramref name="high"/> inclusive.</summary>
    public static ByteSet Range(int low, int high)
    {
        var set = default(ByteSet);
        for (int b = low; b <= high; b++)
            set = set.With(b);
        return set;
    }

    /// <summary>Whether <paramref name="value"/> is in the set.</summary>
    public bool Contains(byte value) => ((Word(value >> 6) >> (value & 63)) & 1) != 0;

    /// <summary>This set with <paramref name="value"/> added.</summary>
    public ByteSet With(int value)
    {
        ulong bit = 1UL << (value & 63);
        return (value >> 6) switch
        {
            0 => this with { W0 = W0 | bit },
            1 => this with { W1 = W1 | bit },
            2 => this with { W2 = W2 | bit },
            _ => this with { W3 = W3 | bit },
        };
    }

    /// <summary>The union of two sets.</summary>
    public ByteSet Union(ByteSet other) => new(W0 | other.W0, W1 | other.W1, W2 | other.W2, W3 | other.W3);

    /// <summary>Whether the set is empty.</summary>
    public bool IsEmpty => (W0 | W1 | W2 | W3) == 0;

    /// <summary>How many bytes the set holds.</summary>
    public int Count => BitOperations.PopCount(W0) + BitOperations.PopCount(W1) + BitOperations.PopCount(W2) + BitOperations.PopCount(W3);

    private ulong Word(int index) => index switch { 0 => W0, 1 => W1, 2 => W2, _ => W3 };

    /// <summary>Lists the set as byte ranges, e.g. <c>[0x30-0x39 0x41]</c>, for diagnostics.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        for (int b = 0; b < 256; b++)
        {
            if (!Contains((byte)b))
                continue;
            int e = b;
            while (e + 1 < 256 && Contains((byte)(e + 1)))
                e++;
            parts.Add(e == b ? $"0x{b:X2}" : $"0x{b:X2}-0x{e:X2}");
            b = e;
        }
        return "[" + string.Join(' ', parts) + "]";
    }
}
