using System.Runtime.Intrinsics;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Vectorised quantizers for activation rows: the very bytes of the scalar references
/// (<see cref="BlockQ8_K.QuantizeReference"/>, <see cref="BlockQ8_0.QuantizeActivationsReference"/>), which stay
/// the oracle and the fallback. Every matmul of a prompt quantizes its input rows once, so these run on
/// tokens x width values per matrix.
/// </summary>
/// <remarks>
/// Why the bytes are equal: a code is round-half-to-even of one float product (the same product in a vector lane as
/// in the scalar loop), and the block maximum is an exact maximum. A block holding a NaN or an infinity, whose
/// maximum the vector and scalar comparisons treat differently, goes to the scalar reference.
/// </remarks>
internal static unsafe class ActivationQuantizer
{
    /// <summary>True where the 256-bit vector paths run in hardware (otherwise callers use the scalar references).</summary>
    public static bool IsAccelerated => Vector256.IsHardwareAccelerated;

    /// <summary>Q8_K blocks of 256 values: codes round(-127 / max * x) where max is the first value of largest magnitude.</summary>
    public static void QuantizeQ8K(ReadOnlySpan<float> src, Span<byte> dst) => Quantize<Q8K>(src, dst);

    /// <summary>Q8_0 blocks of 32 activations: D = half(amax / 127), codes round(127 / amax * x).</summary>
    public static void QuantizeQ8_0(ReadOnlySpan<float> src, Span<byte> dst) => Quantize<Q8_0>(src, dst);

    /// <summary>One activation block format: its sizes, its scalar reference, and its vector path for finite blocks.</summary>
    private interface IActivationBlock
    {
        static abstract int Values { get; }
        static abstract int Bytes { get; }
        static abstract string Name { get; }
        static abstract void Reference(ReadOnlySpan<float> x, Span<byte> block);

        /// <summary>Quantizes the finite block <paramref name="x"/> whose largest magnitude is <paramref name="amax"/>.</summary>
        static abstract void Finite(float* x, byte* block, float amax);
    }

    private static void Quantize<TB>(ReadOnlySpan<float> src, Span<byte> dst) where TB : IActivationBlock
    {
        int nb = QuantMath.CheckBlocks(dst.Length, src.Length, TB.Bytes, TB.Values, TB.Name);
        fixed (float* x0 = src)
        fixed (byte* p = dst)
        {
            for (int i = 0; i < nb; i++)
            {
                float* x = x0 + i * TB.Values;
                byte* block = p + (long)i * TB.Bytes;
                float amax = MaxMagnitude(x, TB.Values);
                if (float.IsFinite(amax))
                    TB.Finite(x, block, amax);
                else
                    TB.Reference(new ReadOnlySpan<float>(x, TB.Values), new Span<byte>(block, TB.Bytes));
            }
        }
    }

    private readonly struct Q8K : IActivationBlock
    {
        public static int Values => BlockQ8_K.BlockSize;
        public static int Bytes => BlockQ8_K.ByteSize;
        public static string Name => "Q8_K";
        public static void Reference(ReadOnlySpan<float> x, Span<byte> block) => BlockQ8_K.QuantizeReference(x, block);

        public static void Finite(float* x, byte* bytes, float amax)
        {
            var block = (BlockQ8_K*)bytes;
            if (amax == 0)
            {
                new Span<byte>(block, BlockQ8_K.ByteSize).Clear();
                return;
            }
            int first = 0;
            while (MathF.Abs(x[first]) != amax)
                first++;
            float iscale = -127.0f / x[first];
            var scale = Vector256.Create(iscale);
            var top = Vector256.Create(127);
            for (int k = 0; k < BlockQ8_K.BlockSize; k += 32)
            {
                var q0 = Vector256.Min(Codes(x + k, scale), top);
                var q1 = Vector256.Min(Codes(x + k + 8, scale), top);
                var q2 = Vector256.Min(Codes(x + k + 16, scale), top);
                var q3 = Vector256.Min(Codes(x + k + 24, scale), top);
                block->BSums[k / 16] = (short)Vector256.Sum(q0 + q1);
                block->BSums[k / 16 + 1] = (short)Vector256.Sum(q2 + q3);
                Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).Store(block->Qs + k);
            }
            block->D = 1 / iscale;
        }
    }

    private readonly struct Q8_0 : IActivationBlock
    {
        public static int Values => BlockQ8_0.BlockSize;
        public static int Bytes => BlockQ8_0.ByteSize;
        public static string Name => "Q8_0";
        public static void Reference(ReadOnlySpan<float> x, Span<byte> block) => BlockQ8_0.QuantizeActivationsReference(x, block);

        public static void Finite(float* x, byte* bytes, float amax)
        {
            var block = (BlockQ8_0*)bytes;
            block->D = HalfConvert.ToHalf(amax / 127);
            var scale = Vector256.Create(amax != 0 ? 127.0f / amax : 0.0f);
            var q0 = Codes(x, scale);
            var q1 = Codes(x + 8, scale);
            var q2 = Codes(x + 16, scale);
            var q3 = Codes(x + 24, scale);
            Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).Store(block->Qs);
        }
    }

    /// <summary>round-half-to-even(x[0..7] * scale) as integers.</summary>
    private static Vector256<int> Codes(float* x, Vector256<float> scale) =>
        Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x) * scale));

    /// <summary>max |x[j]| over <paramref name="n"/> values (a multiple of 32); NaN when the block holds one.</summary>
    private static float MaxMagnitude(float* x, int n)
    {
        var m0 = Vector256.Abs(Vector256.Load(x));
        var m1 = Vector256.Abs(Vector256.Load(x + 8));
        var m2 = Vector256.Abs(Vector256.Load(x + 16));
        var m3 = Vector256.Abs(Vector256.Load(x + 24));
        for (int k = 32; k < n; k += 32)
        {
            m0 = Vector256.Max(m0, Vector256.Abs(Vector256.Load(x + k)));
            m1 = Vector256.Max(m1, Vector256.Abs(Vector256.Load(x + k + 8)));
            m2 = Vector256.Max(m2, Vector256.Abs(Vector256.Load(x + k + 16)));
            m3 = Vector256.Max(m3, Vector256.Abs(Vector256.Load(x + k + 24)));
        }
        // Vector256.Max and MathF.Max both return NaN when either side is NaN, so a NaN anywhere shows in the result.
        var all = Vector256.Max(Vector256.Max(m0, m1), Vector256.Max(m2, m3));
        float max = all[0];
        for (int j = 1; j < 8; j++)
            max = MathF.Max(max, all[j]);
        return max;
    }
}
