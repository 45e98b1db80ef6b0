using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Float-format weights. F16 and BF16 rows are widened to float in chunks on the stack and dotted with
/// <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>; sums are float, so these differ
/// from the double-summing reference by rounding only.
/// </summary>
internal static unsafe partial class SimdDots
{
    private const int Chunk = 256;

    public static float F32(byte* w, byte* a, int columns) =>
        TensorPrimitives.Dot(new ReadOnlySpan<float>(w, columns), new ReadOnlySpan<float>(a, columns));

    /// <summary>F16 weights against activations held as float (already rounded through F16 by the caller).</summary>
    public static float F16Float(byte* w, byte* a, int columns)
    {
        Span<float> wf = stackalloc float[Chunk];
        var x = (Half*)w;
        var y = (float*)a;
        float sum = 0;
        for (int off = 0; off < columns; off += Chunk)
        {
            int n = Math.Min(Chunk, columns - off);
            TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(x + off, n), wf);
            sum += TensorPrimitives.Dot(wf[..n], new ReadOnlySpan<float>(y + off, n));
        }
        return sum;
    }

    /// <summary>F16 weights against F16 activations.</summary>
    public static float F16(byte* w, byte* a, int columns)
    {
        Span<float> wf = stackalloc float[Chunk];
        Span<float> af = stackalloc float[Chunk];
        var x = (Half*)w;
        var y = (Half*)a;
        float sum = 0;
        for (int off = 0; off < columns; off += Chunk)
        {
            int n = Math.Min(Chunk, columns - off);
            TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(x + off, n), wf);
            TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(y + off, n), af);
            sum += TensorPrimitives.Dot(wf[..n], af[..n]);
        }
        return sum;
    }

    /// <summary>BF16 weights against activations held as float (already rounded through BF16 by the caller).</summary>
    public static float BF16Float(byte* w, byte* a, int columns)
    {
        Span<float> wf = stackalloc float[Chunk];
        var x = (ushort*)w;
        var y = (float*)a;
        float sum = 0;
        for (int off = 0; off < columns; off += Chunk)
        {
            int n = Math.Min(Chunk, columns - off);
            fixed (float* pf = wf)
                WidenBf16(x + off, pf, n);
            sum += TensorPrimitives.Dot(wf[..n], new ReadOnlySpan<float>(y + off, n));
        }
        return sum;
    }

    /// <summary>BF16 weights against BF16 activations.</summary>
    public static float BF16(byte* w, byte* a, int columns)
    {
        Span<float> wf = stackalloc float[Chunk];
        Span<float> af = stackalloc float[Chunk];
        float sum = 0;
        for (int off = 0; off < columns; off += Chunk)
        {
            int n = Math.Min(Chunk, columns - off);
            fixed (float* pw = wf, pa = af)
            {
                WidenBf16((ushort*)w + off, pw, n);
                WidenBf16((ushort*)a + off, pa, n);
            }
            sum += TensorPrimitives.Dot(wf[..n], af[..n]);
        }
        return sum;
    }

    /// <summary>bfloat16 to float is a 16-bit left shift of the bits; eight at a time.</summary>
    private static void WidenBf16(ushort* src, float* dst, int n)
    {
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector128.Load(src + i);
                Vector128.ShiftLeft(Vector128.WidenLower(v), 16).AsSingle().Store(dst + i);
                Vector128.ShiftLeft(Vector128.WidenUpper(v), 16).AsSingle().Store(dst + i + 4);
            }
        }
        for (; i < n; i++)
            dst[i] = HalfConvert.FromBf16(src[i]);
    }
}
