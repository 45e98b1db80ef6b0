using System.Runtime.CompilerServices;

namespace EdgeLm.Numerics.Quants;

/// <summary>The rounding rules ggml's reference quantizers use, spelled out once.</summary>
internal static class QuantMath
{
    /// <summary>
    /// Round to nearest, ties to even: ggml's <c>nearest_int</c> (the 1.5*2^23 trick) for |x| below 2^22,
    /// the only range it is called with.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NearestInt(float x) => (int)MathF.Round(x, MidpointRounding.ToEven);

    /// <summary>C's <c>roundf</c>: round to nearest, ties away from zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundAway(float x) => (int)MathF.Round(x, MidpointRounding.AwayFromZero);

    /// <summary>Throws unless <paramref name="dst"/> holds exactly as many weights as the blocks in <paramref name="src"/>.</summary>
    public static int CheckBlocks(int srcBytes, int dstLength, int blockBytes, int blockSize, string what)
    {
        if (srcBytes % blockBytes != 0)
            throw new ArgumentException($"{what}: {srcBytes} bytes is not a whole number of {blockBytes}-byte blocks.");
        int blocks = srcBytes / blockBytes;
        if ((long)blocks * blockSize != dstLength)
            throw new ArgumentException($"{what}: {blocks} blocks hold {(long)blocks * blockSize} weights, but the other side has {dstLength}.");
        return blocks;
    }
}
