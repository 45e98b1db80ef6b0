using System.Runtime.CompilerServices;

namespace EdgeLm.Numerics.Quants;

/// <summary>Unpacking of the 6-bit sub-block scales the k-quants squeeze into 12 bytes.</summary>
internal static unsafe class KScales
{
    /// <summary>
    /// Q4_K / Q5_K: eight (scale, min) pairs of 6 bits each. Pairs 0-3 sit in the low 6 bits of bytes 0-3 (scale)
    /// and 4-7 (min); pairs 4-7 keep their low 4 bits in the nibbles of bytes 8-11 and their top 2 bits in the
    /// spare top bits of bytes 0-7 (ggml's <c>get_scale_min_k4</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScaleMin(int j, byte* q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = q[j] & 63;
            min = q[j + 4] & 63;
        }
        else
        {
            scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>
    /// Q3_K: sixteen 6-bit scales, returned with the bias of 32 removed (-32..31). Scale j keeps its low 4 bits in
    /// a nibble of bytes 0-7 (low nibbles for j &lt; 8, high for j &gt;= 8) and its top 2 bits in byte 8 + j % 4 at bit
    /// 2 * (j / 4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Q3Scale(int j, byte* scales)
    {
        int low = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
        int high = (scales[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
        return (low | (high << 4)) - 32;
    }
}
