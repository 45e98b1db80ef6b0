using System.Numerics.Tensors;
using EdgeLm.Runtime.Generation;

namespace EdgeLm.Runtime.AI;

public sealed partial class ModelRunner
{
    // Tokens evaluated per EvaluateAll call while embedding: bounds the logits buffer to this many rows.
    private const int EmbeddingChunk = 64;

    /// <summary>
    /// Embeds <paramref name="text"/>: the mean over its tokens (BOS included when the model adds one) of the final
    /// normalized hidden state ("result_norm", [tokens, EmbeddingLength]), scaled to unit length. Runs in a pooled
    /// session, so it waits in the same queue as generations.
    /// </summary>
    /// <exception cref="InvalidChatRequestException">The text has no tokens.</exception>
    /// <exception cref="ContextOverflowException">The text does not fit the context.</exception>
    /// <exception cref="SessionPoolFullException">All sessions are busy and the queue is full.</exception>
    public async Task<float[]> EmbedAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        int[] tokens = Model.Tokenizer.Encode(text, addSpecial: true, parseSpecial: false);
        if (tokens.Length == 0)
            throw new InvalidChatRequestException("The input is empty and the model adds no BOS token, so there is nothing to embed.", "input");
        if (tokens.Length > ContextLength)
            throw new ContextOverflowException(tokens.Length, ContextLength);
        using var lease = await Sessions.AcquireAsync(cancellationToken).ConfigureAwait(false);
        var embedding = await Task.Run(() => Embed(lease.Session, tokens, cancellationToken), cancellationToken).ConfigureAwait(false);
        Statistics.RecordEmbedding(tokens.Length);
        return embedding;
    }

    private static float[] Embed(InferenceSession session, int[] tokens, CancellationToken cancellationToken)
    {
        var p = session.Model.HyperParameters;
        int E = p.EmbeddingLength, V = p.VocabularySize;
        var sum = new float[E];
        var logits = new float[Math.Min(EmbeddingChunk, tokens.Length) * V];
        int rows = 0;
        session.Reset();
        session.Trace = (name, block, values, count) =>
        {
            // result_norm: [count, E], the normalized final hidden state of every position that produces logits.
            if (name != "result_norm")
                return;
            for (int t = 0; t < count; t++)
                TensorPrimitives.Add(sum, values.Slice(t * E, E), sum);
            rows += count;
        };
        try
        {
            for (int done = 0; done < tokens.Length; done += EmbeddingChunk)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = Math.Min(EmbeddingChunk, tokens.Length - done);
                session.EvaluateAll(tokens.AsSpan(done, n), logits.AsSpan(0, n * V));
            }
        }
        finally
        {
            session.Trace = null;
        }
        if (rows != tokens.Length)
            throw new InvalidOperationException($"Expected the final hidden state of {tokens.Length} tokens, traced {rows}.");
        TensorPrimitives.Divide(sum, rows, sum);
        float norm = TensorPrimitives.Norm(sum);
        if (norm > 0)
            TensorPrimitives.Divide(sum, norm, sum);
        return sum;
    }
}
