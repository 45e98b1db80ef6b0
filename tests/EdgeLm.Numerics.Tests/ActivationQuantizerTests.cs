using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Tests;

/// <summary>
/// The vectorised activation quantizers give the scalar references' bytes exactly: over the odd block counts, on
/// rows with exact ties (half-integer products), repeated maxima of both signs, zero blocks, and blocks holding a
/// NaN or an infinity. (In the child process with intrinsics off they compare the fallback with itself.)
/// </summary>
[Trait("Category", "Simd")]
public class ActivationQuantizerTests
{
    public static TheoryData<string> Kinds => new() { "Q8_K", "Q8_0" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void GaussianRowsGiveTheReferenceBytes(string kind)
    {
        int[] counts = kind == "Q8_K" ? TestData.SuperBlockCounts : TestData.SmallBlockCounts;
        foreach (int blocks in counts)
        {
            var x = TestData.Gaussian(blocks * BlockSize(kind), seed: 500 + blocks, std: 3);
            AssertSameBytes(kind, x, $"{blocks} blocks");
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TiesRepeatedMaximaZerosAndNonFiniteBlocksGiveTheReferenceBytes(string kind)
    {
        int n = BlockSize(kind);
        var rng = new Random(9);
        var cases = new List<(string Name, float[] Values)>();

        // amax 127 makes the multiplier exactly +-1, so the half-integer values are exact ties (round to even).
        var ties = new float[n];
        for (int j = 0; j < n; j++)
            ties[j] = (j % 5 - 2) + 0.5f * (j % 2 == 0 ? 1 : -1);
        ties[3] = -127;
        cases.Add(("ties", ties));

        // The largest magnitude twice, negative first: Q8_K's scale comes from the first (-x), giving codes of +127.
        var twice = TestData.Gaussian(n, seed: 10);
        twice[7] = -9;
        twice[n - 2] = 9;
        cases.Add(("repeated maximum", twice));

        var positiveMax = TestData.Gaussian(n, seed: 11);
        positiveMax[n - 1] = 12;
        cases.Add(("positive maximum last", positiveMax));

        cases.Add(("zeros", new float[n]));
        var negativeZeros = new float[n];
        Array.Fill(negativeZeros, -0f);
        cases.Add(("negative zeros", negativeZeros));

        var tiny = new float[n];
        for (int j = 0; j < n; j++)
            tiny[j] = (float)(rng.NextDouble() - 0.5) * 1e-40f; // subnormal floats
        cases.Add(("subnormal", tiny));

        foreach (float special in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            var row = TestData.Gaussian(n, seed: 12);
            row[n / 2 + 1] = special;
            cases.Add(($"holding {special}", row));
        }

        foreach (var (name, values) in cases)
        {
            // The case as the middle block of three, so block offsets are exercised too.
            var x = new float[3 * n];
            TestData.Gaussian(n, seed: 13).CopyTo(x, 0);
            values.CopyTo(x, n);
            TestData.Gaussian(n, seed: 14).CopyTo(x, 2 * n);
            AssertSameBytes(kind, x, name);
        }
    }

    private static int BlockSize(string kind) => kind == "Q8_K" ? BlockQ8_K.BlockSize : BlockQ8_0.BlockSize;

    private static void AssertSameBytes(string kind, float[] x, string what)
    {
        int blocks = x.Length / BlockSize(kind);
        int bytes = blocks * (kind == "Q8_K" ? BlockQ8_K.ByteSize : BlockQ8_0.ByteSize);
        var expected = new byte[bytes];
        var actual = new byte[bytes];
        Array.Fill(actual, (byte)0xA5); // every byte must be written
        if (kind == "Q8_K")
        {
            BlockQ8_K.QuantizeReference(x, expected);
            BlockQ8_K.Quantize(x, actual);
        }
        else
        {
            BlockQ8_0.QuantizeActivationsReference(x, expected);
            BlockQ8_0.QuantizeActivations(x, actual);
        }
        int first = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(first == bytes, $"{kind} {what}: byte {first} of {bytes} differs ({(first < bytes ? $"{actual[first]} != {expected[first]}" : "")}, vector path {ActivationQuantizer.IsAccelerated})");
    }
}
