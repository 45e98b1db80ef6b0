using System.Runtime.InteropServices;
using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Quants;

/// <summary>
/// Scalar reference quantization of one float row, producing the same bytes as ggml's <c>quantize_row_*_ref</c>
/// (the functions that define the model-file formats).
/// </summary>
public static class Quantize
{
    /// <summary>True when <see cref="Row"/> can encode <paramref name="type"/>.</summary>
    public static bool IsSupported(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q8_1
        or GgmlType.Q8_K;

    /// <summary>
    /// Encodes <paramref name="src"/> into <paramref name="dst"/>, which must be exactly
    /// <see cref="GgmlTypeInfo.RowBytes"/> long; the row length must be a whole number of blocks.
    /// </summary>
    /// <exception cref="NotSupportedException">The type has no quantizer here (see <see cref="IsSupported"/>).</exception>
    /// <exception cref="ArgumentException">The lengths do not match.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (type)
        {
            case GgmlType.F32:
                QuantMath.CheckBlocks(dst.Length, src.Length, 4, 1, "F32");
                src.CopyTo(MemoryMarshal.Cast<byte, float>(dst));
                break;
            case GgmlType.F16:
                QuantMath.CheckBlocks(dst.Length, src.Length, 2, 1, "F16");
                HalfConvert.ToHalf(src, MemoryMarshal.Cast<byte, ushort>(dst));
                break;
            case GgmlType.BF16:
                QuantMath.CheckBlocks(dst.Length, src.Length, 2, 1, "BF16");
                HalfConvert.ToBf16(src, MemoryMarshal.Cast<byte, ushort>(dst));
                break;
            case GgmlType.Q4_0: BlockQ4_0.Quantize(src, dst); break;
            case GgmlType.Q4_1: BlockQ4_1.Quantize(src, dst); break;
            case GgmlType.Q5_0: BlockQ5_0.Quantize(src, dst); break;
            case GgmlType.Q5_1: BlockQ5_1.Quantize(src, dst); break;
            case GgmlType.Q8_0: BlockQ8_0.Quantize(src, dst); break;
            case GgmlType.Q8_1: BlockQ8_1.Quantize(src, dst); break;
            case GgmlType.Q8_K: BlockQ8_K.Quantize(src, dst); break;
            default:
                throw new NotSupportedException($"No reference quantizer for tensor type {type} yet.");
        }
    }
}
