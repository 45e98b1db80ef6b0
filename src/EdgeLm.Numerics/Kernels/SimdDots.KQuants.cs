using System.Runtime.Intrinsics;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>k-quant weights against Q8_K activations; same integers and float steps as <see cref="ReferenceDots"/>.</summary>
internal static unsafe partial class SimdDots
{
    public static float Q2_K<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ2_K*)w;
        var y = (BlockQ8_K*)a;
        var three = Vector128.Create((byte)3);
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            int msum = 0;
            for (int s = 0; s < 16; s++)
                msum += y[i].BSums[s] * (x[i].Scales[s] >> 4);
            TAcc acc = default;
            for (int h = 0; h < 2; h++)
            {
                var q0 = Vector128.Load(x[i].Qs + 32 * h);
                var q1 = Vector128.Load(x[i].Qs + 32 * h + 16);
                sbyte* act = y[i].Qs + 128 * h;
                byte* sc = x[i].Scales + 8 * h;
                for (int k = 0; k < 4; k++)
                {
                    acc.AddScaled((Vector128.ShiftRightLogical(q0, 2 * k) & three).AsSByte(), Vector128.Load(act + 32 * k), sc[2 * k] & 0xF);
                    acc.AddScaled((Vector128.ShiftRightLogical(q1, 2 * k) & three).AsSByte(), Vector128.Load(act + 32 * k + 16), sc[2 * k + 1] & 0xF);
                }
            }
            float dall = y[i].D * HalfConvert.ToSingle(x[i].D);
            float dmin = y[i].D * HalfConvert.ToSingle(x[i].DMin);
            sum += dall * acc.Sum() - dmin * msum;
        }
        return sum;
    }

    public static float Q3_K<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ3_K*)w;
        var y = (BlockQ8_K*)a;
        var three = Vector128.Create((byte)3);
        var one = Vector128.Create((byte)1);
        var four = Vector128.Create((sbyte)4);
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            var hm0 = Vector128.Load(x[i].HMask);
            var hm1 = Vector128.Load(x[i].HMask + 16);
            TAcc acc = default;
            for (int h = 0; h < 2; h++)
            {
                var q0 = Vector128.Load(x[i].Qs + 32 * h);
                var q1 = Vector128.Load(x[i].Qs + 32 * h + 16);
                sbyte* act = y[i].Qs + 128 * h;
                for (int k = 0; k < 4; k++)
                {
                    int bit = 4 * h + k;
                    // code = low two bits + 4 * high bit - 4, within -4..3
                    var c0 = ((Vector128.ShiftRightLogical(q0, 2 * k) & three) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hm0, bit) & one, 2)).AsSByte() - four;
                    var c1 = ((Vector128.ShiftRightLogical(q1, 2 * k) & three) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(hm1, bit) & one, 2)).AsSByte() - four;
                    acc.AddScaled(c0, Vector128.Load(act + 32 * k), KScales.Q3Scale(8 * h + 2 * k, x[i].Scales));
                    acc.AddScaled(c1, Vector128.Load(act + 32 * k + 16), KScales.Q3Scale(8 * h + 2 * k + 1, x[i].Scales));
                }
            }
            sum += (y[i].D * HalfConvert.ToSingle(x[i].D)) * acc.Sum();
        }
        return sum;
    }

    public static float Q4_K<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ4_K*)w;
        var y = (BlockQ8_K*)a;
        var mask = Vector128.Create((byte)0x0F);
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            TAcc acc = default;
            int msum = 0;
            for (int c = 0; c < 4; c++)
            {
                KScales.ScaleMin(2 * c, x[i].Scales, out int sc1, out int m1);
                KScales.ScaleMin(2 * c + 1, x[i].Scales, out int sc2, out int m2);
                var r0 = Vector128.Load(x[i].Qs + 32 * c);
                var r1 = Vector128.Load(x[i].Qs + 32 * c + 16);
                sbyte* act = y[i].Qs + 64 * c;
                acc.AddScaled((r0 & mask).AsSByte(), Vector128.Load(act), sc1);
                acc.AddScaled((r1 & mask).AsSByte(), Vector128.Load(act + 16), sc1);
                acc.AddScaled(Vector128.ShiftRightLogical(r0, 4).AsSByte(), Vector128.Load(act + 32), sc2);
                acc.AddScaled(Vector128.ShiftRightLogical(r1, 4).AsSByte(), Vector128.Load(act + 48), sc2);
                msum += m1 * (y[i].BSums[4 * c] + y[i].BSums[4 * c + 1]) + m2 * (y[i].BSums[4 * c + 2] + y[i].BSums[4 * c + 3]);
            }
            float d = y[i].D * HalfConvert.ToSingle(x[i].D);
            float dmin = y[i].D * HalfConvert.ToSingle(x[i].DMin);
            sum += d * acc.Sum() - dmin * msum;
        }
        return sum;
    }

    public static float Q5_K<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ5_K*)w;
        var y = (BlockQ8_K*)a;
        var mask = Vector128.Create((byte)0x0F);
        var one = Vector128.Create((byte)1);
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            var qh0 = Vector128.Load(x[i].Qh);
            var qh1 = Vector128.Load(x[i].Qh + 16);
            TAcc acc = default;
            int msum = 0;
            for (int c = 0; c < 4; c++)
            {
                KScales.ScaleMin(2 * c, x[i].Scales, out int sc1, out int m1);
                KScales.ScaleMin(2 * c + 1, x[i].Scales, out int sc2, out int m2);
                var r0 = Vector128.Load(x[i].Qs + 32 * c);
                var r1 = Vector128.Load(x[i].Qs + 32 * c + 16);
                var h00 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh0, 2 * c) & one, 4);
                var h01 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh1, 2 * c) & one, 4);
                var h10 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh0, 2 * c + 1) & one, 4);
                var h11 = Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh1, 2 * c + 1) & one, 4);
                sbyte* act = y[i].Qs + 64 * c;
                acc.AddScaled(((r0 & mask) | h00).AsSByte(), Vector128.Load(act), sc1);
                acc.AddScaled(((r1 & mask) | h01).AsSByte(), Vector128.Load(act + 16), sc1);
                acc.AddScaled((Vector128.ShiftRightLogical(r0, 4) | h10).AsSByte(), Vector128.Load(act + 32), sc2);
                acc.AddScaled((Vector128.ShiftRightLogical(r1, 4) | h11).AsSByte(), Vector128.Load(act + 48), sc2);
                msum += m1 * (y[i].BSums[4 * c] + y[i].BSums[4 * c + 1]) + m2 * (y[i].BSums[4 * c + 2] + y[i].BSums[4 * c + 3]);
            }
            float d = y[i].D * HalfConvert.ToSingle(x[i].D);
            float dmin = y[i].D * HalfConvert.ToSingle(x[i].DMin);
            sum += d * acc.Sum() - dmin * msum;
        }
        return sum;
    }

    public static float Q6_K<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ6_K*)w;
        var y = (BlockQ8_K*)a;
        var mask = Vector128.Create((byte)0x0F);
        var three = Vector128.Create((byte)3);
        var bias = Vector128.Create((sbyte)32);
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            TAcc acc = default;
            for (int h = 0; h < 2; h++)
            {
                sbyte* act = y[i].Qs + 128 * h;
                sbyte* sc = x[i].Scales + 8 * h;
                for (int half = 0; half < 2; half++)
                {
                    int o = 16 * half;
                    var qlA = Vector128.Load(x[i].Ql + 64 * h + o);
                    var qlB = Vector128.Load(x[i].Ql + 64 * h + 32 + o);
                    var qh = Vector128.Load(x[i].Qh + 32 * h + o);
                    var c0 = ((qlA & mask) | Vector128.ShiftLeft(qh & three, 4)).AsSByte() - bias;
                    var c1 = ((qlB & mask) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh, 2) & three, 4)).AsSByte() - bias;
                    var c2 = (Vector128.ShiftRightLogical(qlA, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh, 4) & three, 4)).AsSByte() - bias;
                    var c3 = (Vector128.ShiftRightLogical(qlB, 4) | Vector128.ShiftLeft(Vector128.ShiftRightLogical(qh, 6), 4)).AsSByte() - bias;
                    acc.AddScaled(c0, Vector128.Load(act + o), sc[half]);
                    acc.AddScaled(c1, Vector128.Load(act + 32 + o), sc[2 + half]);
                    acc.AddScaled(c2, Vector128.Load(act + 64 + o), sc[4 + half]);
                    acc.AddScaled(c3, Vector128.Load(act + 96 + o), sc[6 + half]);
                }
            }
            sum += (y[i].D * HalfConvert.ToSingle(x[i].D)) * acc.Sum();
        }
        return sum;
    }
}
