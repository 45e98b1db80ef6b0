using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Vectorised dot products, written once over <see cref="IInt8Accumulator"/> and instantiated per vector width.
/// Each computes exactly the integers <see cref="ReferenceDots"/> computes and then the same float operations in
/// the same order, so results are bit-identical to the reference. Weight codes are unpacked 16 at a time into
/// signed bytes and multiplied against 16 activation bytes.
/// </summary>
internal static unsafe partial class SimdDots
{
    // Byte k of entry b is 0x10 when bit k of b is set: spreads Q5 fifth bits onto byte lanes.
    private static readonly ulong[] s_bit4Spread = BuildBitSpread();

    private static ulong[] BuildBitSpread()
    {
        var table = new ulong[256];
        for (int b = 0; b < 256; b++)
        {
            ulong v = 0;
            for (int k = 0; k < 8; k++)
            {
                if ((b & (1 << k)) != 0)
                    v |= 0x10UL << (8 * k);
            }
            table[b] = v;
        }
        return table;
    }

    /// <summary>Sixteen lanes of 0x10 or 0, lane k set when bit k of <paramref name="bits"/> is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> FifthBits(uint bits) =>
        Vector128.Create(s_bit4Spread[bits & 0xFF], s_bit4Spread[(bits >> 8) & 0xFF]).AsByte();

    public static float Q4_0<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ4_0*)w;
        var y = (BlockQ8_0*)a;
        var mask = Vector128.Create((byte)0x0F);
        var eight = Vector128.Create((sbyte)8);
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            var raw = Vector128.Load(x[i].Qs);
            TAcc acc = default;
            acc.Add((raw & mask).AsSByte() - eight, Vector128.Load(y[i].Qs));
            acc.Add(Vector128.ShiftRightLogical(raw, 4).AsSByte() - eight, Vector128.Load(y[i].Qs + 16));
            sum += acc.Sum() * (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D));
        }
        return sum;
    }

    public static float Q4_1<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ4_1*)w;
        var y = (BlockQ8_1*)a;
        var mask = Vector128.Create((byte)0x0F);
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            var raw = Vector128.Load(x[i].Qs);
            TAcc acc = default;
            acc.Add((raw & mask).AsSByte(), Vector128.Load(y[i].Qs));
            acc.Add(Vector128.ShiftRightLogical(raw, 4).AsSByte(), Vector128.Load(y[i].Qs + 16));
            sum += (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D)) * acc.Sum()
                 + HalfConvert.ToSingle(x[i].M) * HalfConvert.ToSingle(y[i].S);
        }
        return sum;
    }

    public static float Q5_0<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ5_0*)w;
        var y = (BlockQ8_0*)a;
        var mask = Vector128.Create((byte)0x0F);
        var sixteen = Vector128.Create((sbyte)16);
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            var raw = Vector128.Load(x[i].Qs);
            uint qh = Unsafe.ReadUnaligned<uint>(x[i].Qh);
            if (!BitConverter.IsLittleEndian)
                qh = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(qh);
            var lo = ((raw & mask) | FifthBits(qh)).AsSByte() - sixteen;
            var hi = (Vector128.ShiftRightLogical(raw, 4) | FifthBits(qh >> 16)).AsSByte() - sixteen;
            TAcc acc = default;
            acc.Add(lo, Vector128.Load(y[i].Qs));
            acc.Add(hi, Vector128.Load(y[i].Qs + 16));
            sum += acc.Sum() * (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D));
        }
        return sum;
    }

    public static float Q5_1<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ5_1*)w;
        var y = (BlockQ8_1*)a;
        var mask = Vector128.Create((byte)0x0F);
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            var raw = Vector128.Load(x[i].Qs);
            uint qh = Unsafe.ReadUnaligned<uint>(x[i].Qh);
            if (!BitConverter.IsLittleEndian)
                qh = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(qh);
            var lo = ((raw & mask) | FifthBits(qh)).AsSByte();
            var hi = (Vector128.ShiftRightLogical(raw, 4) | FifthBits(qh >> 16)).AsSByte();
            TAcc acc = default;
            acc.Add(lo, Vector128.Load(y[i].Qs));
            acc.Add(hi, Vector128.Load(y[i].Qs + 16));
            sum += (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D)) * acc.Sum()
                 + HalfConvert.ToSingle(x[i].M) * HalfConvert.ToSingle(y[i].S);
        }
        return sum;
    }

    public static float Q8_0<TAcc>(byte* w, byte* a, int columns) where TAcc : struct, IInt8Accumulator
    {
        var x = (BlockQ8_0*)w;
        var y = (BlockQ8_0*)a;
        float sum = 0;
        for (int i = 0; i < columns / 32; i++)
        {
            TAcc acc = default;
            acc.Add(Vector128.Load(x[i].Qs), Vector128.Load(y[i].Qs));
            acc.Add(Vector128.Load(x[i].Qs + 16), Vector128.Load(y[i].Qs + 16));
            sum += acc.Sum() * (HalfConvert.ToSingle(x[i].D) * HalfConvert.ToSingle(y[i].D));
        }
        return sum;
    }
}
