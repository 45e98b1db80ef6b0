using EdgeLm.Numerics.Kernels;

namespace EdgeLm.Numerics.Tests;

public class HalfConvertTests
{
    [Fact]
    public void ToHalfRoundsToNearestTiesToEven()
    {
        var rng = new Random(1);
        for (int n = 0; n < 20000; n++)
        {
            // Mix of ordinary values and exact midpoints between two neighbouring halves.
            float f;
            if (n % 2 == 0)
            {
                f = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-20, 16)));
            }
            else
            {
                ushort lo = (ushort)rng.Next(0, 0x7BFF);
                f = (float)(((double)HalfConvert.ToSingle(lo) + HalfConvert.ToSingle((ushort)(lo + 1))) / 2);
            }
            ushort h = HalfConvert.ToHalf(f);
            double err = Math.Abs(HalfConvert.ToSingle(h) - (double)f);
            foreach (int delta in new[] { -1, 1 })
            {
                ushort other = (ushort)(h + delta);
                if ((other & 0x7C00) == 0x7C00 || (h & 0x7FFF) == 0 && delta < 0)
                    continue; // skip infinities/NaN and wrapping below zero
                double otherErr = Math.Abs(HalfConvert.ToSingle(other) - (double)f);
                Assert.True(err <= otherErr, $"{f}: got {h:X4} (err {err}), {other:X4} is closer ({otherErr})");
                if (err == otherErr)
                    Assert.True((h & 1) == 0, $"{f}: tie resolved to odd {h:X4}");
            }
        }
    }

    [Fact]
    public void SpanConversionsAgreeWithScalar()
    {
        var x = TestData.Gaussian(1000, 2, 100f);
        var h = new ushort[x.Length];
        var back = new float[x.Length];
        HalfConvert.ToHalf(x, h);
        HalfConvert.ToSingle(h, back);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(HalfConvert.ToHalf(x[i]), h[i]);
            Assert.Equal((float)BitConverter.UInt16BitsToHalf(h[i]), back[i]);
        }
    }

    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)] // tie, lower neighbour even: stays
    [InlineData(0x3F818000u, (ushort)0x3F82)] // tie, lower neighbour odd: rounds up to even
    [InlineData(0x3F808001u, (ushort)0x3F81)] // just above the tie
    [InlineData(0xBF807FFFu, (ushort)0xBF80)] // just below the tie, negative
    [InlineData(0x7F800000u, (ushort)0x7F80)] // +inf
    [InlineData(0x7F800001u, (ushort)0x7FC0)] // signalling NaN becomes quiet
    public void ToBf16RoundsLikeGgml(uint floatBits, ushort expected) =>
        Assert.Equal(expected, HalfConvert.ToBf16(BitConverter.UInt32BitsToSingle(floatBits)));

    [Fact]
    public void FromBf16IsExactWidening()
    {
        for (int b = 0; b < 65536; b += 7)
        {
            float f = HalfConvert.FromBf16((ushort)b);
            Assert.Equal((uint)b << 16, BitConverter.SingleToUInt32Bits(f));
        }
    }
}
