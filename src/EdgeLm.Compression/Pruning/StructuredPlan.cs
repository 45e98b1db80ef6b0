using EdgeLm.Runtime.Architectures;

namespace EdgeLm.Compression.Pruning;

/// <summary>What one kept block keeps. Indices are into the source block's widths, ascending.</summary>
/// <param name="SourceBlock">The block's index in the input model.</param>
/// <param name="FeedForwardChannels">FFN channels kept (rows of ffn_gate/up, columns of ffn_down).</param>
/// <param name="KeyValueHeads">KV heads kept; each brings its group of query heads.</param>
/// <param name="FeedForwardScores">[source FFN width]: every channel's importance, mean |h_c| x ||ffn_down[:, c]||.</param>
/// <param name="HeadScores">[source KV heads]: every KV group's importance, sum over its query dims of mean x_d^2 x ||attn_output[:, d]||^2.</param>
public sealed record BlockPlan(int SourceBlock, int[] FeedForwardChannels, int[] KeyValueHeads, float[] FeedForwardScores, float[] HeadScores);

/// <summary>
/// The outcome of <see cref="StructuredPruner.Plan"/>: which blocks, FFN channels and attention heads stay. Apply it
/// with <see cref="StructuredPruner.Write"/>.
/// </summary>
/// <param name="Source">The input model's shape.</param>
/// <param name="Blocks">The kept blocks, in order; output block i is Blocks[i].</param>
/// <param name="DroppedBlocks">Source blocks removed, ascending.</param>
/// <param name="BlockCosines">[source blocks]: mean cosine similarity of each block's input and output.</param>
/// <param name="FeedForwardLength">FFN width of every kept block.</param>
/// <param name="KeyValueHeadCount">KV heads of every kept block.</param>
public sealed record StructuredPlan(TransformerHyperParameters Source, IReadOnlyList<BlockPlan> Blocks, IReadOnlyList<int> DroppedBlocks,
    IReadOnlyList<double> BlockCosines, int FeedForwardLength, int KeyValueHeadCount)
{
    /// <summary>Query heads of every kept block: the kept KV heads times the group size.</summary>
    public int HeadCount => KeyValueHeadCount * Source.GroupSize;

    /// <summary>True when the head counts change (the output then records the head width explicitly).</summary>
    public bool ChangesHeads => KeyValueHeadCount != Source.KeyValueHeadCount;

    /// <summary>Rows of attn_q kept in a block (all dimensions of the kept query heads), ascending.</summary>
    public static int[] QueryRows(BlockPlan block, TransformerHyperParameters source)
    {
        int G = source.GroupSize, D = source.HeadDimension;
        return block.KeyValueHeads.SelectMany(g => Enumerable.Range(g * G * D, G * D)).ToArray();
    }

    /// <summary>Rows of attn_k and attn_v kept in a block, ascending.</summary>
    public static int[] KeyValueRows(BlockPlan block, TransformerHyperParameters source)
    {
        int D = source.HeadDimension;
        return block.KeyValueHeads.SelectMany(g => Enumerable.Range(g * D, D)).ToArray();
    }
}
