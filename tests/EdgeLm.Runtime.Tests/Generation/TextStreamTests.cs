using System.Text;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Runtime.Tests.Generation;

public class TextStreamTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void CharactersSplitAcrossTokensAreHeldUntilComplete()
    {
        var stream = new TextStream([]);
        byte[] euro = B("€"); // three bytes
        Assert.Equal("a", stream.Append([(byte)'a', euro[0]]));
        Assert.Equal("", stream.Append(euro.AsSpan(1, 1)));
        Assert.Equal("€b", stream.Append([euro[2], (byte)'b']));
        Assert.Equal("", stream.Flush());
        Assert.Equal("a€b", stream.Text);
    }

    [Fact]
    public void AnIncompleteCharacterAtTheEndBecomesAReplacementCharacter()
    {
        var stream = new TextStream([]);
        stream.Append([(byte)'x', 0xE2, 0x82]);
        Assert.Equal("\uFFFD", stream.Flush());
    }

    [Fact]
    public void TextThatMayStartAStopSequenceIsHeldBack()
    {
        var stream = new TextStream(["\nUser:"]);
        Assert.Equal("Hello", stream.Append(B("Hello\nUs")));
        Assert.False(stream.Stopped);
        Assert.Equal("", stream.Append(B("er:")));
        Assert.True(stream.Stopped);
        Assert.Equal("Hello", stream.Text);
    }

    [Fact]
    public void HeldBackTextIsReleasedWhenItTurnsOutNotToBeAStop()
    {
        var stream = new TextStream(["STOP"]);
        Assert.Equal("go ", stream.Append(B("go ST")));
        Assert.Equal("STart", stream.Append(B("art")));
        Assert.Equal("go STart", stream.Text);
    }

    [Fact]
    public void TheEarliestOfSeveralStopSequencesWins()
    {
        var stream = new TextStream(["world", "lo w"]);
        stream.Append(B("hello world"));
        Assert.True(stream.Stopped);
        Assert.Equal("hel", stream.Text);
    }

    [Fact]
    public void HeldBackTextIsFlushedAtTheEnd()
    {
        var stream = new TextStream(["STOP"]);
        Assert.Equal("end ", stream.Append(B("end STO")));
        Assert.Equal("STO", stream.Flush());
    }

    [Fact]
    public void TheLeadingSpaceIsDroppedOnceWhenAsked()
    {
        var stream = new TextStream([], dropLeadingSpace: true);
        Assert.Equal("Once", stream.Append(B(" Once")));
        Assert.Equal(" upon", stream.Append(B(" upon")));
        var keep = new TextStream([]);
        Assert.Equal(" Once", keep.Append(B(" Once")));
    }
}
