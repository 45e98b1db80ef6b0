namespace EdgeLm.Runtime.Synthesis;

/// <summary>
/// Standard normal numbers from a fixed algorithm (SplitMix64 bits, Box-Muller transform), so that a seed gives the
/// same model on every machine and every .NET version.
/// </summary>
internal sealed class NormalSource(ulong seed)
{
    private ulong _state = seed;
    private float? _spare;

    /// <summary>The next N(0, 1) value.</summary>
    public float Next()
    {
        if (_spare is { } spare)
        {
            _spare = null;
            return spare;
        }
        // Two uniforms in (0, 1]; the first must not be 0 for the logarithm.
        double u1 = (NextBits() >> 11) * (1.0 / (1UL << 53));
        double u2 = (NextBits() >> 11) * (1.0 / (1UL << 53));
        double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - u1));
        double angle = 2.0 * Math.PI * u2;
        _spare = (float)(radius * Math.Sin(angle));
        return (float)(radius * Math.Cos(angle));
    }

    private ulong NextBits()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
