using EdgeLm.Tokenizers.Tests.Support;

namespace EdgeLm.Tokenizers.Tests;

/// <summary>WordPiece (BERT) behaviour beyond the vectors: [CLS]/[SEP], normalization and unknown words.</summary>
public sealed class WordPieceTests
{
    private static WordPieceTokenizer Bert => Assert.IsType<WordPieceTokenizer>(TestTokenizers.Get("bert-bge"));

    [Fact]
    public void AddsClsAndSep()
    {
        var bert = Bert;
        Assert.Equal(101, bert.BosId);
        Assert.Equal(102, bert.EosId);
        Assert.Equal(102, bert.SeparatorId);
        Assert.True(bert.AddBos);
        Assert.True(bert.AddEos);
        int[] plain = bert.Encode("hello world", addSpecial: false);
        Assert.Equal([101, .. plain, 102], bert.Encode("hello world"));
        Assert.Equal(" hello world", bert.Decode(plain));
        Assert.Equal("[CLS] hello world[SEP]", bert.Decode(bert.Encode("hello world")));
    }

    [Fact]
    public void LowercasesStripsAccentsAndSplitsPunctuation()
    {
        var bert = Bert;
        Assert.Equal(bert.Encode("cafe, resume!", addSpecial: false), bert.Encode("Café,RÉSUMÉ !", addSpecial: false));
        Assert.Equal(["cafe", ",", "resume", "!"], bert.SplitWords("Café,RÉSUMÉ !"));
        Assert.Equal(["a", "$", "b", "你", "好"], bert.SplitWords("a$b你好"));
    }

    [Fact]
    public void AWordThatCannotBeCoveredIsOneUnknownToken()
    {
        var bert = Bert;
        Assert.Equal([100], bert.Encode("🦙", addSpecial: false));
        Assert.Equal(100, bert.UnknownId);
    }

    [Fact]
    public void LongWordsSplitIntoContinuationPieces()
    {
        var bert = Bert;
        int[] ids = bert.Encode("tokenization", addSpecial: false);
        Assert.True(ids.Length > 1);
        Assert.StartsWith("▁", bert.TokenText(ids[0]));
        Assert.All(ids.Skip(1), id => Assert.False(bert.TokenText(id).StartsWith('▁')));
        Assert.Equal(" tokenization", bert.Decode(ids));
    }
}
