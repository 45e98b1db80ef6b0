using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// An exact integer accumulator of int8 x int8 products, 16 lanes at a time. The SIMD dot kernels are written once
/// against this interface and instantiated per vector width (the JIT specialises generic code over structs), so
/// <see cref="Acc256"/> and <see cref="Acc128"/> run the very same kernel text.
/// </summary>
/// <remarks>
/// Inputs must lie within -128..127 with products summed in int32: every kernel here stays far from overflow
/// (at most 256 products of |w| &lt;= 32, |a| &lt;= 127, times a 6/8-bit scale per superblock).
/// </remarks>
internal interface IInt8Accumulator
{
    /// <summary>acc += sum over k of w[k] * a[k].</summary>
    void Add(Vector128<sbyte> w, Vector128<sbyte> a);

    /// <summary>acc += scale * sum over k of w[k] * a[k].</summary>
    void AddScaled(Vector128<sbyte> w, Vector128<sbyte> a, int scale);

    /// <summary>The total so far.</summary>
    int Sum();
}

/// <summary>Accumulator over 256-bit vectors: 16 int8 lanes widened to int16, multiplied, pair-summed into 8 int32.</summary>
internal struct Acc256 : IInt8Accumulator
{
    private Vector256<int> _sum;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Products(Vector128<sbyte> w, Vector128<sbyte> a)
    {
        if (Avx2.IsSupported)
            return Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w), Avx2.ConvertToVector256Int16(a));
        var w16 = Vector256.Create(Vector128.WidenLower(w), Vector128.WidenUpper(w));
        var a16 = Vector256.Create(Vector128.WidenLower(a), Vector128.WidenUpper(a));
        var p = w16 * a16; // |w * a| <= 128 * 128 fits int16
        return Vector256.WidenLower(p) + Vector256.WidenUpper(p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(Vector128<sbyte> w, Vector128<sbyte> a) => _sum += Products(w, a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddScaled(Vector128<sbyte> w, Vector128<sbyte> a, int scale) => _sum += Products(w, a) * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Sum() => Vector256.Sum(_sum);
}

/// <summary>Accumulator over 128-bit vectors (SSE2 / NEON, or AVX2 switched off).</summary>
internal struct Acc128 : IInt8Accumulator
{
    private Vector128<int> _sum;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Products(Vector128<sbyte> w, Vector128<sbyte> a)
    {
        var wl = Vector128.WidenLower(w);
        var wh = Vector128.WidenUpper(w);
        var al = Vector128.WidenLower(a);
        var ah = Vector128.WidenUpper(a);
        if (Sse2.IsSupported)
            return Sse2.MultiplyAddAdjacent(wl, al) + Sse2.MultiplyAddAdjacent(wh, ah);
        var pl = wl * al;
        var ph = wh * ah;
        return Vector128.WidenLower(pl) + Vector128.WidenUpper(pl) + Vector128.WidenLower(ph) + Vector128.WidenUpper(ph);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(Vector128<sbyte> w, Vector128<sbyte> a) => _sum += Products(w, a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddScaled(Vector128<sbyte> w, Vector128<sbyte> a, int scale) => _sum += Products(w, a) * scale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Sum() => Vector128.Sum(_sum);
}
