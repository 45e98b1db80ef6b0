using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Attention over a quantized value cache: the softmax of one query's scores applied to Q8_0 value rows in a single
/// pass over the positions, the way llama.cpp's CPU flash attention does it for a quantized V cache
/// (<c>ggml_compute_forward_flash_attn_ext_f16</c> with V not F16):
/// <code>
/// M = -inf, S = 0, out = 0
/// for j in 0..n-1:                          (positions in order; -inf scores are masked and skipped)
///     if s[j] > M:  ms = exp(M - s[j]); M = s[j]; out *= ms; vs = 1      (a new maximum rescales what was summed)
///     else:         ms = 1;             vs = exp(s[j] - M)
///     out[d] = fma(dequant(V[j])[d], vs, out[d])    for every d; dequant(V)[d] = code[d] * blockScale (exact in float)
///     S = S * ms + vs
/// out *= 1 / S
/// </code>
/// The vector paths (<see cref="Vector256"/>, <see cref="Vector128"/>) do exactly the reference's per-element
/// operations, one fused multiply-add per element and position in the same order, so all paths give identical bits.
/// </summary>
public static unsafe class AttentionKernels
{
    /// <summary>
    /// output[0..D) = sum over j of softmax(scores)[j] * V[j], where V = <paramref name="values"/> is a Q8_0 matrix
    /// [positions, D] with at least <paramref name="scores"/>.Length rows, D = values.Columns = output.Length.
    /// Scores are already scaled (and masked with -inf where a position must not count).
    /// If every score is -inf the output is zero.
    /// </summary>
    public static void SoftmaxWeightedSum(ReadOnlySpan<float> scores, in WeightMatrix values, Span<float> output)
    {
        Check(scores, values, output);
        fixed (float* s = scores, y = output)
        {
            if (Vector256.IsHardwareAccelerated)
                Run<Ops256>(s, scores.Length, values, y);
            else if (Vector128.IsHardwareAccelerated)
                Run<Ops128>(s, scores.Length, values, y);
            else
                Run<OpsScalar>(s, scores.Length, values, y);
        }
    }

    /// <summary>The scalar reference of <see cref="SoftmaxWeightedSum"/> (same contract, same results).</summary>
    public static void SoftmaxWeightedSumReference(ReadOnlySpan<float> scores, in WeightMatrix values, Span<float> output)
    {
        Check(scores, values, output);
        fixed (float* s = scores, y = output)
            Run<OpsScalar>(s, scores.Length, values, y);
    }

    private static void Check(ReadOnlySpan<float> scores, in WeightMatrix values, Span<float> output)
    {
        if (values.Data == null)
            throw new ArgumentException("The value matrix is empty (default).", nameof(values));
        if (values.Type != GgmlType.Q8_0)
            throw new NotSupportedException($"Values of type {values.Type} are not supported here; only Q8_0.");
        if (scores.IsEmpty || scores.Length > values.Rows)
            throw new ArgumentException($"Between 1 and {values.Rows} scores (one per value row), got {scores.Length}.", nameof(scores));
        if (output.Length != values.Columns)
            throw new ArgumentException($"The output holds one head of {values.Columns} values, got {output.Length}.", nameof(output));
    }

    /// <summary>The online softmax of the class summary; <typeparamref name="TOps"/> does the per-element work.</summary>
    private static void Run<TOps>(float* scores, int n, in WeightMatrix values, float* y) where TOps : struct, IRowOps
    {
        int D = values.Columns, blocks = D / BlockQ8_0.BlockSize;
        new Span<float>(y, D).Clear();
        float M = float.NegativeInfinity, S = 0;
        byte* row = values.Data;
        long stride = values.RowStride;
        for (int j = 0; j < n; j++, row += stride)
        {
            float s = scores[j];
            if (s == float.NegativeInfinity)
                continue;
            float ms = 1, vs = 1;
            if (s > M)
            {
                ms = MathF.Exp(M - s); // 0 on the first visible position (M = -inf)
                M = s;
                TOps.Scale(y, D, ms);
            }
            else
            {
                vs = MathF.Exp(s - M);
            }
            TOps.MadQ8_0(y, row, blocks, vs);
            S = S * ms + vs;
        }
        TOps.Scale(y, D, S == 0 ? 0 : 1.0f / S);
    }

    /// <summary>The element-wise steps, once per vector width.</summary>
    private interface IRowOps
    {
        /// <summary>y[0..n) *= factor.</summary>
        static abstract void Scale(float* y, int n, float factor);

        /// <summary>y[d] = fma(code[d] * scale(d / 32), v, y[d]) over <paramref name="blocks"/> Q8_0 blocks.</summary>
        static abstract void MadQ8_0(float* y, byte* row, int blocks, float v);
    }

    private struct OpsScalar : IRowOps
    {
        public static void Scale(float* y, int n, float factor)
        {
            for (int i = 0; i < n; i++)
                y[i] *= factor;
        }

        public static void MadQ8_0(float* y, byte* row, int blocks, float v)
        {
            for (int b = 0; b < blocks; b++, row += BlockQ8_0.ByteSize, y += BlockQ8_0.BlockSize)
            {
                float d = HalfConvert.ToSingle(Unsafe.ReadUnaligned<ushort>(row));
                var codes = (sbyte*)(row + 2);
                for (int k = 0; k < BlockQ8_0.BlockSize; k++)
                    y[k] = MathF.FusedMultiplyAdd(codes[k] * d, v, y[k]);
            }
        }
    }

    private struct Ops256 : IRowOps
    {
        public static void Scale(float* y, int n, float factor)
        {
            int i = 0;
            for (; i + 8 <= n; i += 8)
                Vector256.Store(Vector256.Load(y + i) * factor, y + i);
            for (; i < n; i++)
                y[i] *= factor;
        }

        public static void MadQ8_0(float* y, byte* row, int blocks, float v)
        {
            var vv = Vector256.Create(v);
            for (int b = 0; b < blocks; b++, row += BlockQ8_0.ByteSize, y += BlockQ8_0.BlockSize)
            {
                var d = Vector256.Create(HalfConvert.ToSingle(Unsafe.ReadUnaligned<ushort>(row)));
                var codes = Vector256.Load((sbyte*)(row + 2));
                var (lo, hi) = Vector256.Widen(codes);
                var (c0, c1) = Vector256.Widen(lo);
                var (c2, c3) = Vector256.Widen(hi);
                Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(c0) * d, vv, Vector256.Load(y)), y);
                Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(c1) * d, vv, Vector256.Load(y + 8)), y + 8);
                Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(c2) * d, vv, Vector256.Load(y + 16)), y + 16);
                Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(c3) * d, vv, Vector256.Load(y + 24)), y + 24);
            }
        }
    }

    private struct Ops128 : IRowOps
    {
        public static void Scale(float* y, int n, float factor)
        {
            int i = 0;
            for (; i + 4 <= n; i += 4)
                Vector128.Store(Vector128.Load(y + i) * factor, y + i);
            for (; i < n; i++)
                y[i] *= factor;
        }

        public static void MadQ8_0(float* y, byte* row, int blocks, float v)
        {
            var vv = Vector128.Create(v);
            for (int b = 0; b < blocks; b++, row += BlockQ8_0.ByteSize, y += BlockQ8_0.BlockSize)
            {
                var d = Vector128.Create(HalfConvert.ToSingle(Unsafe.ReadUnaligned<ushort>(row)));
                for (int half = 0; half < 2; half++)
                {
                    var codes = Vector128.Load((sbyte*)(row + 2) + 16 * half);
                    var (lo, hi) = Vector128.Widen(codes);
                    var (c0, c1) = Vector128.Widen(lo);
                    var (c2, c3) = Vector128.Widen(hi);
                    float* o = y + 16 * half;
                    Vector128.Store(Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(c0) * d, vv, Vector128.Load(o)), o);
                    Vector128.Store(Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(c1) * d, vv, Vector128.Load(o + 4)), o + 4);
                    Vector128.Store(Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(c2) * d, vv, Vector128.Load(o + 8)), o + 8);
                    Vector128.Store(Vector128.FusedMultiplyAdd(Vector128.ConvertToSingle(c3) * d, vv, Vector128.Load(o + 12)), o + 12);
                }
            }
        }
    }
}
