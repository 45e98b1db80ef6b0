using EdgeLm.Compression.Fitting;

namespace EdgeLm.Compression.Tests.Fitting;

public class ByteSizeTests
{
    [Theory]
    [InlineData("512MB", 512_000_000L)]
    [InlineData("512 mb", 512_000_000L)]
    [InlineData("1.5GiB", 1_610_612_736L)]
    [InlineData("800M", 838_860_800L)]
    [InlineData("800m", 838_860_800L)]
    [InlineData("1048576", 1_048_576L)]
    [InlineData("  64KiB ", 65_536L)]
    [InlineData("64K", 65_536L)]
    [InlineData("900KB", 900_000L)]
    [InlineData("100B", 100L)]
    [InlineData("2G", 2_147_483_648L)]
    [InlineData("1TB", 1_000_000_000_000L)]
    [InlineData("0.5KiB", 512L)]
    [InlineData("1.0001KB", 1000L)]
    public void ParsesSizes(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out long bytes));
        Assert.Equal(expected, bytes);
        Assert.Equal(expected, ByteSize.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("MB")]
    [InlineData("12XB")]
    [InlineData("-5MB")]
    [InlineData("+5MB")]
    [InlineData("0")]
    [InlineData("0MB")]
    [InlineData("0.1B")]
    [InlineData("1e6")]
    [InlineData("1,000")]
    [InlineData("1.2.3M")]
    [InlineData(".")]
    [InlineData("NaN")]
    [InlineData("512 MB MB")]
    [InlineData("99999999999TB")]
    public void RefusesWhatIsNotASize(string text)
    {
        Assert.False(ByteSize.TryParse(text, out long bytes));
        Assert.Equal(0, bytes);
        var e = Assert.Throws<FormatException>(() => ByteSize.Parse(text));
        Assert.Contains("512MB", e.Message);
    }

    [Theory]
    [InlineData(96L, "96 B")]
    [InlineData(1536L, "1.50 KiB")]
    [InlineData(838_860_800L, "800.0 MiB")]
    [InlineData(1_610_612_736L, "1.50 GiB")]
    public void FormatsInBinaryUnits(long bytes, string expected) => Assert.Equal(expected, ByteSize.Format(bytes));
}
