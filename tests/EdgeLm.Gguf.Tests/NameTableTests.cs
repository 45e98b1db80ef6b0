using System.Reflection;
using EdgeLm.Testing;

namespace EdgeLm.Gguf.Tests;

public class NameTableTests
{
    [Fact]
    public void EveryStories260KTensorNameComesFromTheNameTable()
    {
        using var file = GgufFile.Open(RepoPaths.Stories260K);
        int blocks = (int)file.GetInteger(GgufKeys.BlockCount("llama"));
        var expected = new HashSet<string>
        {
            TensorNames.Weight(TensorNames.TokenEmbedding),
            TensorNames.Weight(TensorNames.OutputNorm),
        };
        if (file.FindTensor(TensorNames.Weight(TensorNames.Output)) is not null)
            expected.Add(TensorNames.Weight(TensorNames.Output));
        for (int i = 0; i < blocks; i++)
        {
            foreach (var name in new[]
            {
                TensorNames.AttentionNorm(i), TensorNames.AttentionQuery(i), TensorNames.AttentionKey(i),
                TensorNames.AttentionValue(i), TensorNames.AttentionOutput(i), TensorNames.FeedForwardNorm(i),
                TensorNames.FeedForwardGate(i), TensorNames.FeedForwardUp(i), TensorNames.FeedForwardDown(i),
            })
            {
                expected.Add(TensorNames.Weight(name));
            }
        }
        Assert.Equal(expected.OrderBy(n => n), file.Tensors.Select(t => t.Name).OrderBy(n => n));
        Assert.Equal("blk.3.ffn_down.bias", TensorNames.Bias(TensorNames.FeedForwardDown(3)));
    }

    public static TheoryData<string> GgufFiles() => RoundTripTests.GgufFixtures();

    /// <summary>Every key in the fixtures (written by llama.cpp's tools) is spelled by a GgufKeys member.</summary>
    [Theory]
    [MemberData(nameof(GgufFiles))]
    public void EveryFixtureKeyIsSpelledByGgufKeys(string relativePath)
    {
        using var file = GgufFile.Open(Path.Combine(RepoPaths.Root, relativePath));
        string arch = file.GetString(GgufKeys.GeneralArchitecture);
        var known = new HashSet<string>();
        foreach (var member in typeof(GgufKeys).GetMembers(BindingFlags.Public | BindingFlags.Static))
        {
            if (member is FieldInfo { IsLiteral: true } field)
                known.Add((string)field.GetRawConstantValue()!);
            else if (member is MethodInfo method && method.GetParameters() is [{ Name: "arch" }])
                known.Add((string)method.Invoke(null, [arch])!);
        }
        var unknown = file.MetadataInOrder.Select(kv => kv.Key).Where(k => !known.Contains(k)).ToList();
        Assert.Empty(unknown);
    }
}
