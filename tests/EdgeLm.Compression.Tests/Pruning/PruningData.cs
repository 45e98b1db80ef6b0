using EdgeLm.Compression.Evaluation;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Generation;
using EdgeLm.Testing;

namespace EdgeLm.Compression.Tests.Pruning;

/// <summary>
/// The calibration / evaluation split of the TinyStories sample for stories260K: the first half of its tokens
/// calibrates, the second half (never seen by the calibration) measures perplexity, in chunks of 128 tokens.
/// </summary>
internal static class PruningData
{
    public const int Context = 128;

    public static string SamplePath => RepoPaths.Fixture("corpora", "tinystories-sample.txt");

    /// <summary>The sample's tokens under <paramref name="lm"/>'s tokenizer (BOS first), split in half.</summary>
    public static (int[] Calibration, int[] Evaluation) Split(LanguageModel lm)
    {
        int[] tokens = lm.Tokenizer.Encode(File.ReadAllText(SamplePath), addSpecial: true, parseSpecial: false);
        int half = tokens.Length / 2;
        return (tokens[..half], tokens[half..]);
    }

    /// <summary>Perplexity of the model at <paramref name="path"/> on the evaluation half.</summary>
    public static double Perplexity(string path)
    {
        using var lm = LanguageModel.Load(path);
        var (_, evaluation) = Split(lm);
        var session = lm.CreateSession(new SessionOptions { ContextLength = Context, Threads = 2 });
        int V = lm.HyperParameters.VocabularySize;
        int? bos = lm.Tokenizer.AddBos ? lm.Tokenizer.BosId : null;
        return EdgeLm.Compression.Evaluation.Perplexity.Compute(evaluation, Context, null, bos, chunk =>
        {
            var logits = new float[Context * V];
            session.Reset();
            session.EvaluateAll(chunk, logits);
            return logits;
        }).Value;
    }
}
