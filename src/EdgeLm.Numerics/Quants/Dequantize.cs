using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>Scalar reference dequantization of one row of any supported <see cref="GgmlType"/> to float.</summary>
public static class Dequantize
{
    /// <summary>True when <see cref="Row"/> can decode <paramref name="type"/>.</summary>
    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q8_1
        or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K;

    /// <summary>
    /// Decodes <paramref name="src"/> (whole blocks of <paramref name="type"/>) into <paramref name="dst"/>, which must
    /// hold exactly the number of weights those blocks encode.
    /// </summary>
    /// <exception cref="NotSupportedException">The type has no dequantizer here.</exception>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (type)
        {
            case GgmlType.F32:
                QuantMath.CheckBlocks(src.Length, dst.Length, 4, 1, "F32");
                MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);
                break;
            case GgmlType.F16:
                QuantMath.CheckBlocks(src.Length, dst.Length, 2, 1, "F16");
                HalfConvert.ToSingle(MemoryMarshal.Cast<byte, ushort>(src), dst);
                break;
            case GgmlType.BF16:
                QuantMath.CheckBlocks(src.Length, dst.Length, 2, 1, "BF16");
                HalfConvert.FromBf16(MemoryMarshal.Cast<byte, ushort>(src), dst);
                break;
            case GgmlType.Q4_0: BlockQ4_0.Dequantize(src, dst); break;
            case GgmlType.Q4_1: BlockQ4_1.Dequantize(src, dst); break;
            case GgmlType.Q5_0: BlockQ5_0.Dequantize(src, dst); break;
            case GgmlType.Q5_1: BlockQ5_1.Dequantize(src, dst); break;
            case GgmlType.Q8_0: BlockQ8_0.Dequantize(src, dst); break;
            case GgmlType.Q8_1: BlockQ8_1.Dequantize(src, dst); break;
            case GgmlType.Q2_K: BlockQ2_K.Dequantize(src, dst); break;
            case GgmlType.Q3_K: BlockQ3_K.Dequantize(src, dst); break;
            case GgmlType.Q4_K: BlockQ4_K.Dequantize(src, dst); break;
            case GgmlType.Q5_K: BlockQ5_K.Dequantize(src, dst); break;
            case GgmlType.Q6_K: BlockQ6_K.Dequantize(src, dst); break;
            case GgmlType.Q8_K: BlockQ8_K.Dequantize(src, dst); break;
            default:
                throw new NotSupportedException($"No dequantizer for tensor type {type}.");
        }
    }
}
