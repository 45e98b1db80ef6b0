using System.Text.RegularExpressions;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime.Architectures;

namespace EdgeLm.Compression.Pruning;

/// <summary>
/// Structured (width and depth) pruning: removes whole FFN channels, whole attention heads (a KV head with its group
/// of query heads, so grouped-query attention stays valid) and optionally whole blocks, chosen by importance measured
/// on calibration text (<see cref="StructureStatistics"/>), and writes a smaller model that any GGUF engine runs:
/// narrower tensors in their original types, <c>{arch}.feed_forward_length</c>, <c>{arch}.attention.head_count(_kv)</c>
/// and <c>{arch}.block_count</c> updated (with the head width written to <c>{arch}.attention.key_length</c> and
/// <c>value_length</c> when heads go, since it no longer follows from embedding / heads), later blocks renumbered.
/// Every check runs before anything is written; the file is written atomically.
/// </summary>
public static partial class StructuredPruner
{
    /// <summary>Plans and writes in one go.</summary>
    /// <exception cref="PruneException">The model, the statistics or the options do not allow it; nothing was written.</exception>
    public static StructuredPruneReport Prune(string input, string output, StructuredPruneOptions options, StructureStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(output);
        PruneSource.CheckPaths(input, output);
        return Write(input, output, Plan(input, options, statistics), options.Threads);
    }

    /// <summary>
    /// Chooses what stays: in each block the <see cref="StructuredPruneOptions.FeedForwardLength"/> channels and
    /// <see cref="StructuredPruneOptions.KeyValueHeadCount"/> KV groups with the highest scores (see
    /// <see cref="BlockPlan"/>), and all blocks but the <see cref="StructuredPruneOptions.DropBlocks"/> whose output
    /// is most similar to their input.
    /// </summary>
    /// <exception cref="PruneException">The options do not fit the model, or the statistics belong to another model.</exception>
    public static StructuredPlan Plan(string input, StructuredPruneOptions options, StructureStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(statistics);
        if (!File.Exists(input))
            throw new PruneException($"Model file '{input}' does not exist.");
        var (source, p) = PruneSource.Open(input);
        using (source)
        {
            int F = options.FeedForwardLength ?? p.FeedForwardLength;
            int K = options.KeyValueHeadCount ?? p.KeyValueHeadCount;
            if (F < 1 || F > p.FeedForwardLength)
                throw new PruneException($"The FFN width kept must be between 1 and {p.FeedForwardLength}, got {F}.");
            if (K < 1 || K > p.KeyValueHeadCount)
                throw new PruneException($"The key/value heads kept must be between 1 and {p.KeyValueHeadCount}, got {K}.");
            if (options.DropBlocks < 0 || options.DropBlocks >= p.BlockCount)
                throw new PruneException($"Between 0 and {p.BlockCount - 1} of the {p.BlockCount} blocks can be dropped, not {options.DropBlocks}.");
            if (options.Threads is <= 0)
                throw new PruneException($"Threads must be positive, got {options.Threads}.");
            CheckStatistics(statistics, p);
            CheckMetadata(source, p);

            var cosines = statistics.Blocks.Select(s => s.MeanCosine).ToArray();
            // The most similar blocks change the residual least; ties go to the later block.
            var dropped = Enumerable.Range(0, p.BlockCount).OrderByDescending(b => cosines[b]).ThenByDescending(b => b)
                .Take(options.DropBlocks).Order().ToArray();
            var blocks = new List<BlockPlan>();
            for (int b = 0; b < p.BlockCount; b++)
            {
                if (dropped.Contains(b))
                    continue;
                var ffnScores = FeedForwardScores(source, b, statistics.Blocks[b]);
                var headScores = HeadScores(source, b, statistics.Blocks[b], p);
                blocks.Add(new BlockPlan(b, Top(ffnScores, F), Top(headScores, K), ffnScores, headScores));
            }
            return new StructuredPlan(p, blocks, dropped, cosines, F, K);
        }
    }

    /// <summary>Writes <paramref name="input"/> narrowed and shortened as <paramref name="plan"/> says.</summary>
    /// <exception cref="PruneException">The plan does not belong to this model; nothing was written.</exception>
    public static StructuredPruneReport Write(string input, string output, StructuredPlan plan, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        PruneSource.CheckPaths(input, output);
        var (source, p) = PruneSource.Open(input);
        using (source)
        {
            if (p != plan.Source)
                throw new PruneException($"The plan was made for a model of another shape than {input}.");
            var writer = PruneSource.CopyMetadata(source);
            UpdateMetadata(writer, source, plan);
            CheckPlan(plan);
            var byBlock = plan.Blocks.ToDictionary(x => x.SourceBlock);
            var renumber = plan.Blocks.Select((block, i) => (block.SourceBlock, i)).ToDictionary(x => x.SourceBlock, x => x.i);
            int workers = threads ?? Environment.ProcessorCount;
            long before = 0, after = 0;
            foreach (var info in source.Tensors)
            {
                before += info.ElementCount;
                var match = BlockTensorName().Match(info.Name);
                if (!match.Success)
                {
                    writer.AddTensor(info.Name, info.Type, info.Dimensions, info.ByteSize, s => PruneSource.Copy(source, info, s));
                    after += info.ElementCount;
                    continue;
                }
                int b = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (!renumber.TryGetValue(b, out int target))
                    continue; // a dropped block
                string name = TensorNames.Block(target, match.Groups[2].Value);
                var (rows, columns) = Selection(match.Groups[2].Value, byBlock[b], p, info);
                if (rows is null && columns is null)
                {
                    writer.AddTensor(name, info.Type, info.Dimensions, info.ByteSize, s => PruneSource.Copy(source, info, s));
                    after += info.ElementCount;
                    continue;
                }
                long[] dims = info.Dimensions;
                if (columns is not null)
                    dims[0] = columns.Length;
                if (rows is not null)
                    dims[1] = rows.Length;
                long size = GgmlTypeInfo.RowBytes(info.Type, dims[0]) * (dims.Length > 1 ? dims[1] : 1);
                writer.AddTensor(name, info.Type, dims, size, s => PruneSource.Rewrite(source, info, rows, columns, null, workers, s));
                after += dims.Aggregate(1L, (x, d) => x * d);
            }
            writer.Write(output);
            return new StructuredPruneReport(output, plan, before, after, source.Length, new FileInfo(output).Length);
        }
    }

    [GeneratedRegex(@"^blk\.(\d+)\.(.+)$")]
    private static partial Regex BlockTensorName();

    /// <summary>
    /// The source rows and columns a block tensor keeps (null: all). Matrices are [out, in]: attn_q/k/v and
    /// ffn_gate/up lose output rows, attn_output and ffn_down lose input columns; biases follow their rows.
    /// </summary>
    private static (int[]? Rows, int[]? Columns) Selection(string suffix, BlockPlan block, TransformerHyperParameters p, GgufTensorInfo info)
    {
        bool heads = block.KeyValueHeads.Length != p.KeyValueHeadCount;
        bool ffn = block.FeedForwardChannels.Length != p.FeedForwardLength;
        int[]? query = heads ? StructuredPlan.QueryRows(block, p) : null;
        int[]? keyValue = heads ? StructuredPlan.KeyValueRows(block, p) : null;
        int[]? channels = ffn ? block.FeedForwardChannels : null;
        var selection = suffix switch
        {
            "attn_q.weight" => (query, null),
            "attn_k.weight" or "attn_v.weight" => (keyValue, null),
            "attn_output.weight" => (null, query),
            "ffn_gate.weight" or "ffn_up.weight" => (channels, null),
            "ffn_down.weight" => (null, channels),
            "attn_q.bias" => (null, query),
            "attn_k.bias" or "attn_v.bias" => (null, keyValue),
            "ffn_gate.bias" or "ffn_up.bias" => (null, channels),
            _ => ((int[]?)null, (int[]?)null),
        };
        if (selection == (null, null))
            return selection;
        int rank = suffix.EndsWith(".weight", StringComparison.Ordinal) ? 2 : 1;
        if (info.Rank != rank)
            throw new PruneException($"Tensor {info.Name} has shape ({string.Join(", ", info.Dimensions)}), not the {(rank == 2 ? "matrix" : "vector")} pruning expects.");
        return selection;
    }

    /// <summary>FFN channel c: mean |h_c| x ||ffn_down[:, c]||_2, [FeedForwardLength].</summary>
    private static float[] FeedForwardScores(GgufFile source, int b, BlockStatistics s)
    {
        var norms = ColumnSquares(source, source.GetTensor(TensorNames.Weight(TensorNames.FeedForwardDown(b))));
        var scores = new float[norms.Length];
        for (int c = 0; c < scores.Length; c++)
            scores[c] = s.FeedForwardMeanAbs[c] * MathF.Sqrt((float)norms[c]);
        return scores;
    }

    /// <summary>KV group g: sum over its query dims d of mean x_d^2 x ||attn_output[:, d]||^2, [KeyValueHeadCount].</summary>
    private static float[] HeadScores(GgufFile source, int b, BlockStatistics s, TransformerHyperParameters p)
    {
        var norms = ColumnSquares(source, source.GetTensor(TensorNames.Weight(TensorNames.AttentionOutput(b))));
        int width = p.GroupSize * p.HeadDimension;
        var scores = new float[p.KeyValueHeadCount];
        for (int g = 0; g < scores.Length; g++)
        {
            double sum = 0;
            for (int d = g * width; d < (g + 1) * width; d++)
                sum += s.AttentionMeanSquares[d] * norms[d];
            scores[g] = (float)sum;
        }
        return scores;
    }

    /// <summary>Sum over rows of W[r, j]^2 for each column j of a matrix [rows, columns], read a row at a time.</summary>
    private static double[] ColumnSquares(GgufFile source, GgufTensorInfo info)
    {
        int n = checked((int)info.RowLength);
        var sums = new double[n];
        var row = new float[n];
        int rowBytes = checked((int)GgmlTypeInfo.RowBytes(info.Type, n));
        for (long r = 0; r < info.RowCount; r++)
        {
            Dequantize.Row(info.Type, source.Region.Slice(info.FileOffset + r * rowBytes, rowBytes), row);
            for (int j = 0; j < n; j++)
                sums[j] += (double)row[j] * row[j];
        }
        return sums;
    }

    /// <summary>The indices of the <paramref name="count"/> highest scores, ascending (ties: the lower index stays).</summary>
    private static int[] Top(float[] scores, int count) =>
        Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(count).Order().ToArray();

    /// <summary>A plan's indices must be ascending, distinct and in range, with the same counts in every block.</summary>
    private static void CheckPlan(StructuredPlan plan)
    {
        var p = plan.Source;
        static bool Ascending(IReadOnlyList<int> values, int limit)
        {
            for (int i = 0; i < values.Count; i++)
            {
                if (values[i] < 0 || values[i] >= limit || (i > 0 && values[i] <= values[i - 1]))
                    return false;
            }
            return true;
        }
        if (plan.Blocks.Count == 0 || !Ascending(plan.Blocks.Select(b => b.SourceBlock).ToArray(), p.BlockCount)
            || plan.Blocks.Count + plan.DroppedBlocks.Count != p.BlockCount)
            throw new PruneException("The plan's blocks are not a non-empty, ascending selection of the model's blocks.");
        foreach (var b in plan.Blocks)
        {
            if (b.FeedForwardChannels.Length != plan.FeedForwardLength || !Ascending(b.FeedForwardChannels, p.FeedForwardLength))
                throw new PruneException($"Block {b.SourceBlock}: the plan's FFN channels are not {plan.FeedForwardLength} ascending indices below {p.FeedForwardLength}.");
            if (b.KeyValueHeads.Length != plan.KeyValueHeadCount || !Ascending(b.KeyValueHeads, p.KeyValueHeadCount))
                throw new PruneException($"Block {b.SourceBlock}: the plan's KV heads are not {plan.KeyValueHeadCount} ascending indices below {p.KeyValueHeadCount}.");
        }
    }

    private static void CheckStatistics(StructureStatistics statistics, TransformerHyperParameters p)
    {
        if (statistics.Blocks.Count != p.BlockCount)
            throw new PruneException($"The statistics cover {statistics.Blocks.Count} blocks; the model has {p.BlockCount}: they were measured on another model.");
        foreach (var s in statistics.Blocks)
        {
            if (s.FeedForwardMeanAbs.Length != p.FeedForwardLength || s.AttentionMeanSquares.Length != p.QueryLength)
                throw new PruneException($"The statistics have {s.FeedForwardMeanAbs.Length} FFN channels and {s.AttentionMeanSquares.Length} attention dims per block; " +
                    $"the model has {p.FeedForwardLength} and {p.QueryLength}: they were measured on another model.");
            if (s.FeedForwardMeanAbs.Any(v => !float.IsFinite(v)) || s.AttentionMeanSquares.Any(v => !float.IsFinite(v)) || !double.IsFinite(s.MeanCosine))
                throw new PruneException("The statistics hold a non-finite value: the calibration run overflowed.");
        }
    }

    /// <summary>The width keys must be single numbers: per-layer arrays (some architectures) cannot be narrowed uniformly here.</summary>
    private static void CheckMetadata(GgufFile source, TransformerHyperParameters p)
    {
        string arch = p.Architecture;
        foreach (string key in new[] { GgufKeys.FeedForwardLength(arch), GgufKeys.AttentionHeadCount(arch), GgufKeys.AttentionHeadCountKv(arch), GgufKeys.BlockCount(arch) })
        {
            if (source.TryGetValue(key, out var v) && v.Type == GgufValueType.Array)
                throw new PruneException($"'{key}' is a per-layer array in this model; structured pruning needs one value for all layers.");
        }
    }

    private static void UpdateMetadata(GgufWriter writer, GgufFile source, StructuredPlan plan)
    {
        var p = plan.Source;
        string arch = p.Architecture;
        // Keep each key's integer type (llama.cpp writes UInt32); add a key as UInt32 when the source had none.
        void Set(string key, int value)
        {
            var type = source.TryGetValue(key, out var old) ? old.Type : GgufValueType.UInt32;
            writer.SetMetadata(key, type switch
            {
                GgufValueType.Int32 => GgufValue.From(value),
                GgufValueType.UInt64 => GgufValue.From((ulong)value),
                GgufValueType.Int64 => GgufValue.From((long)value),
                GgufValueType.UInt16 => GgufValue.FromUInt16(checked((ushort)value)),
                GgufValueType.Int16 => GgufValue.FromInt16(checked((short)value)),
                _ => GgufValue.From((uint)value),
            });
        }
        Set(GgufKeys.BlockCount(arch), plan.Blocks.Count);
        Set(GgufKeys.FeedForwardLength(arch), plan.FeedForwardLength);
        if (plan.ChangesHeads)
        {
            Set(GgufKeys.AttentionHeadCount(arch), plan.HeadCount);
            Set(GgufKeys.AttentionHeadCountKv(arch), plan.KeyValueHeadCount);
            Set(GgufKeys.AttentionKeyLength(arch), p.HeadDimension);
            Set(GgufKeys.AttentionValueLength(arch), p.HeadDimension);
        }
    }
}
