using System.Buffers.Binary;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Scalar reference dot products, one weight row (ggml block format) against one activation row already quantized
/// to the weight type's activation format. These define the arithmetic: each block's integer dot product is exact,
/// then scaled and summed in float block by block, in order. The SIMD kernels reproduce the same integers and the
/// same float operations, so they must return bit-identical results. Arguments: raw row pointers and the row length
/// in weights (a whole number of blocks, checked by the caller).
/// </summary>
internal static unsafe partial class ReferenceDots
{
    public static float Q4_0(byte* w, byte* a, int columns)
    {
        var x = (BlockQ4_0*)w;
        var y = (BlockQ8_0*)a;
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            int isum = 0;
            for (int j = 0; j < 16; j++)
            {
                isum += ((x[i].Qs[j] & 0x0F) - 8) * y[i].Qs[j];
                isum += ((x[i].Qs[j] >> 4) - 8) * y[i].Qs[j + 16];
            }
            sum += isum * (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D));
        }
        return sum;
    }

    public static float Q4_1(byte* w, byte* a, int columns)
    {
        var x = (BlockQ4_1*)w;
        var y = (BlockQ8_1*)a;
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            int isum = 0;
            for (int j = 0; j < 16; j++)
            {
                isum += (x[i].Qs[j] & 0x0F) * y[i].Qs[j];
                isum += (x[i].Qs[j] >> 4) * y[i].Qs[j + 16];
            }
            // sum_j (d q_j + m) * (dy a_j) = d dy sum(q a) + m * (dy sum a), and S holds dy sum a.
            sum += (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D)) * isum
                 + HalfConvert.ToSingle(x[i].M) * HalfConvert.ToSingle(y[i].S);
        }
        return sum;
    }

    public static float Q5_0(byte* w, byte* a, int columns)
    {
        var x = (BlockQ5_0*)w;
        var y = (BlockQ8_0*)a;
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(x[i].Qh, 4));
            int isum = 0;
            for (int j = 0; j < 16; j++)
            {
                int q0 = ((x[i].Qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4)) - 16;
                int q1 = ((x[i].Qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16;
                isum += q0 * y[i].Qs[j] + q1 * y[i].Qs[j + 16];
            }
            sum += isum * (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D));
        }
        return sum;
    }

    public static float Q5_1(byte* w, byte* a, int columns)
    {
        var x = (BlockQ5_1*)w;
        var y = (BlockQ8_1*)a;
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(x[i].Qh, 4));
            int isum = 0;
            for (int j = 0; j < 16; j++)
            {
                int q0 = (x[i].Qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
                int q1 = (x[i].Qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                isum += q0 * y[i].Qs[j] + q1 * y[i].Qs[j + 16];
            }
            sum += (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D)) * isum
                 + HalfConvert.ToSingle(x[i].M) * HalfConvert.ToSingle(y[i].S);
        }
        return sum;
    }

    public static float Q8_0(byte* w, byte* a, int columns)
    {
        var x = (BlockQ8_0*)w;
        var y = (BlockQ8_0*)a;
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            int isum = 0;
            for (int j = 0; j < 32; j++)
                isum += x[i].Qs[j] * y[i].Qs[j];
            sum += isum * (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D));
        }
        return sum;
    }
}
