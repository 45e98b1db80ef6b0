using System.Runtime.InteropServices;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Float-format weights. The activation row is stored in the weight's own format (F16 weights meet F16-rounded
/// activations, as in ggml); the products are summed in double like ggml's scalar <c>ggml_vec_dot_*</c>.
/// </summary>
internal static unsafe partial class ReferenceDots
{
    public static float F32(byte* w, byte* a, int columns)
    {
        var x = (float*)w;
        var y = (float*)a;
        double sum = 0;
        for (int i = 0; i < columns; i++)
            sum += x[i] * y[i];
        return (float)sum;
    }

    public static float F16(byte* w, byte* a, int columns)
    {
        var x = (ushort*)w;
        var y = (ushort*)a;
        double sum = 0;
        for (int i = 0; i < columns; i++)
            sum += HalfConvert.ToSingle(x[i]) * HalfConvert.ToSingle(y[i]);
        return (float)sum;
    }

    public static float BF16(byte* w, byte* a, int columns)
    {
        var x = (ushort*)w;
        var y = (ushort*)a;
        double sum = 0;
        for (int i = 0; i < columns; i++)
            sum += HalfConvert.FromBf16(x[i]) * HalfConvert.FromBf16(y[i]);
        return (float)sum;
    }
}
