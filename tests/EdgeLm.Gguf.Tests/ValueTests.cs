namespace EdgeLm.Gguf.Tests;

public class ValueTests
{
    [Fact]
    public void ExactAccessorsRefuseOtherTypes()
    {
        var v = GgufValue.From(7u);
        Assert.Equal(7u, v.AsUInt32());
        var e = Assert.Throws<GgufFormatException>(() => v.AsInt32());
        Assert.Contains("UInt32, expected Int32", e.Message);
        Assert.Throws<GgufFormatException>(() => v.AsString());
        Assert.Throws<GgufFormatException>(() => v.AsArray());
        Assert.Throws<GgufFormatException>(() => GgufValue.From("x").AsBool());
    }

    [Fact]
    public void ToInt64WidensEveryIntegerTypeAndChecksRange()
    {
        Assert.Equal(200, GgufValue.FromUInt8(200).ToInt64());
        Assert.Equal(-5, GgufValue.FromInt8(-5).ToInt64());
        Assert.Equal(60000, GgufValue.FromUInt16(60000).ToInt64());
        Assert.Equal(-30000, GgufValue.FromInt16(-30000).ToInt64());
        Assert.Equal(4294967295, GgufValue.From(uint.MaxValue).ToInt64());
        Assert.Equal(-1, GgufValue.From(-1).ToInt64());
        Assert.Equal(long.MaxValue, GgufValue.From((ulong)long.MaxValue).ToInt64());
        Assert.Equal(long.MinValue, GgufValue.From(long.MinValue).ToInt64());
        var e = Assert.Throws<GgufFormatException>(() => GgufValue.From(ulong.MaxValue).ToInt64());
        Assert.Contains("18446744073709551615", e.Message);
        Assert.Throws<GgufFormatException>(() => GgufValue.From(1.0f).ToInt64());
        Assert.Throws<GgufFormatException>(() => GgufValue.From(true).ToInt64());
    }

    [Fact]
    public void ToDoubleWidensEveryNumericType()
    {
        Assert.Equal(0.5, GgufValue.From(0.5f).ToDouble());
        Assert.Equal(1e-300, GgufValue.From(1e-300).ToDouble());
        Assert.Equal(-3, GgufValue.FromInt16(-3).ToDouble());
        Assert.Equal(18446744073709551615.0, GgufValue.From(ulong.MaxValue).ToDouble());
        Assert.Throws<GgufFormatException>(() => GgufValue.From("1").ToDouble());
        Assert.Throws<GgufFormatException>(() => GgufValue.From(false).ToDouble());
    }

    [Fact]
    public void ArrayAccessorsCheckTheElementTypeAndReturnCopies()
    {
        var a = GgufArray.FromInt32s([1, 2, 3]);
        var copy = a.AsInt32s();
        copy[0] = 99;
        Assert.Equal(1, a.AsInt32s()[0]);
        Assert.Equal(new[] { 1, 2, 3 }, a.AsSpan<int>().ToArray());
        Assert.Throws<GgufFormatException>(() => a.AsSpan<uint>());
        Assert.Throws<GgufFormatException>(() => a.AsFloat32s());
        Assert.Throws<GgufFormatException>(() => a.AsStrings());
        Assert.Equal(new long[] { 1, 2, 3 }, a.ToInt64s());
        Assert.Equal(new double[] { 1, 2, 3 }, a.ToDoubles());
        Assert.Equal(2, a[1].AsInt32());
        Assert.Equal(GgufValueType.Int32, a[1].Type);
        Assert.Equal(new[] { 1, 2, 3 }, a.Select(v => v.AsInt32()));

        var s = GgufArray.FromStrings(["x", "yy"]);
        var strings = s.AsStrings();
        strings[0] = "changed";
        Assert.Equal("x", s.AsStrings()[0]);
        Assert.Equal("yy", s.GetString(1));
        Assert.Equal("yy"u8.ToArray(), s.GetUtf8(1).ToArray());
    }

    [Fact]
    public void SignedElementsReadBackSigned()
    {
        Assert.Equal(-1, GgufArray.FromInt8s([-1])[0].ToInt64());
        Assert.Equal(-1, GgufArray.FromInt16s([-1])[0].ToInt64());
        Assert.Equal(255, GgufArray.FromUInt8s([255])[0].ToInt64());
        Assert.Equal(65535, GgufArray.FromUInt16s([65535])[0].ToInt64());
        Assert.Equal(uint.MaxValue, GgufArray.FromUInt32s([uint.MaxValue])[0].ToInt64());
    }

    [Fact]
    public void FromValuesBuildsTheSameArrayAsTheTypedFactory()
    {
        var built = GgufArray.FromValues(GgufValueType.Int16, [GgufValue.FromInt16(-2), GgufValue.FromInt16(300)]);
        Assert.Equal(GgufArray.FromInt16s([-2, 300]), built);
        Assert.Equal(GgufArray.FromStrings(["a", "b"]), GgufArray.FromValues(GgufValueType.String, [GgufValue.From("a"), GgufValue.From("b")]));
        Assert.Throws<ArgumentException>(() => GgufArray.FromValues(GgufValueType.Int16, [GgufValue.From(1)]));
    }

    [Fact]
    public void EqualityIsStructural()
    {
        Assert.Equal(GgufValue.From("abc"), GgufValue.From("abc"));
        Assert.NotEqual(GgufValue.From("abc"), GgufValue.From("abd"));
        Assert.NotEqual(GgufValue.From(1), GgufValue.From(1u));
        Assert.Equal(GgufValue.From(float.NaN), GgufValue.From(float.NaN));
        Assert.Equal(GgufValue.FromFloat32s([1, 2]), GgufValue.FromFloat32s([1, 2]));
        Assert.NotEqual(GgufValue.FromFloat32s([1, 2]), GgufValue.FromFloat32s([1, 3]));
        Assert.NotEqual(GgufValue.FromStrings(["ab", "c"]), GgufValue.FromStrings(["a", "bc"]));
        Assert.Equal(
            GgufValue.FromArray(GgufArray.FromArrays([GgufArray.FromInt32s([1]), GgufArray.Empty(GgufValueType.String)])),
            GgufValue.FromArray(GgufArray.FromArrays([GgufArray.FromInt32s([1]), GgufArray.Empty(GgufValueType.String)])));
    }

    [Fact]
    public void ToStringIsReadable()
    {
        Assert.Equal("42", GgufValue.From(42u).ToString());
        Assert.Equal("true", GgufValue.From(true).ToString());
        Assert.Equal("llama", GgufValue.From("llama").ToString());
        Assert.Equal("[Int32 x 2: 1, 2]", GgufValue.FromInt32s([1, 2]).ToString());
        Assert.Equal("[String x 1: \"a\"]", GgufValue.FromStrings(["a"]).ToString());
    }
}
