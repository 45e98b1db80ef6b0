using EdgeLm.Compression.Quantization;
using EdgeLm.Numerics.Quants;

namespace EdgeLm.Compression.Fitting;

/// <summary>
/// What <see cref="ModelFitter.Measure"/> found about a model, independent of the budget: each tensor's candidate
/// types with their bytes and errors, and the memory that does not depend on the choice. Solve it for any budget.
/// </summary>
public sealed class FitMeasurements
{
    internal FitMeasurements(string sourcePath, IReadOnlyList<FittedTensor> tensors, MemoryBreakdown fixedMemory, long minimum, int contextLength,
        SensitivityModel sensitivity)
    {
        SourcePath = sourcePath;
        Tensors = tensors;
        FixedMemory = fixedMemory;
        Minimum = minimum;
        ContextLength = contextLength;
        Sensitivity = sensitivity;
    }

    /// <summary>The model measured.</summary>
    public string SourcePath { get; }

    /// <summary>Every tensor in file order, each at its cheapest candidate (copied tensors as they are).</summary>
    public IReadOnlyList<FittedTensor> Tensors { get; }

    /// <summary>Memory besides the chosen tensors: <see cref="MemoryBreakdown.Weights"/> holds the header and the copied tensors.</summary>
    public MemoryBreakdown FixedMemory { get; }

    /// <summary>The total with the cheapest candidate everywhere: the smallest budget that can be met.</summary>
    public long Minimum { get; }

    /// <summary>The context the KV cache and scratch were sized for.</summary>
    public int ContextLength { get; }

    /// <summary>How errors were made comparable.</summary>
    public SensitivityModel Sensitivity { get; }

    /// <summary>The least-cost choice of types whose total memory is at most <paramref name="budget"/>.</summary>
    /// <exception cref="FitException">The budget is below <see cref="Minimum"/>.</exception>
    public FitPlan Solve(long budget)
    {
        if (budget < Minimum)
            throw TooSmall(budget, Minimum, FixedMemory, ContextLength);
        var chosen = Tensors.Where(t => t.Chosen).ToList();
        var items = chosen.Select(t => (IReadOnlyList<KnapsackOption>)t.Candidates.Select(c => new KnapsackOption(c.Bytes, c.Cost)).ToList()).ToList();
        var picks = MultipleChoiceKnapsack.Solve(items, budget - FixedMemory.Total)
            ?? throw TooSmall(budget, Minimum, FixedMemory, ContextLength);
        var result = new List<FittedTensor>(Tensors.Count);
        int i = 0;
        foreach (var t in Tensors)
        {
            if (!t.Chosen)
            {
                result.Add(t);
                continue;
            }
            var c = t.Candidates[picks[i++]];
            result.Add(t with { Type = c.Type, Bytes = c.Bytes });
        }
        var memory = FixedMemory with { Weights = FixedMemory.Weights + result.Where(t => t.Chosen).Sum(t => t.Bytes) };
        if (memory.Total > budget)
            throw new InvalidOperationException($"The solver exceeded the budget ({memory.Total} > {budget}).");
        return new FitPlan(result, memory, budget, Minimum, FileTypeFor(result), Sensitivity);
    }

    internal static FitException TooSmall(long budget, long minimum, MemoryBreakdown fixedMemory, int context) => new(
        $"The budget of {ByteSize.Format(budget)} ({budget} bytes) is too small: even the smallest types need " +
        $"{ByteSize.Format(minimum)} ({minimum} bytes) in all: file at least {ByteSize.Format(minimum - fixedMemory.KvCache - fixedMemory.Runtime)}, " +
        $"KV cache {ByteSize.Format(fixedMemory.KvCache)} for a context of {context}, runtime {ByteSize.Format(fixedMemory.Runtime)} " +
        $"(of which margin {ByteSize.Format(fixedMemory.Margin)}). Raise the budget, or lower the context.");

    /// <summary>The file type named after the type that holds the most chosen bytes (a label: every tensor's type is given explicitly).</summary>
    private static FileType FileTypeFor(IReadOnlyList<FittedTensor> tensors)
    {
        var main = tensors.Where(t => t.Chosen && FileTypes.IsQuantized(t.Type)).GroupBy(t => t.Type)
            .OrderByDescending(g => g.Sum(t => t.Bytes)).Select(g => (GgmlType?)g.Key).FirstOrDefault();
        return main switch
        {
            null => FileType.F16,
            GgmlType.Q4_0 => FileType.Q4_0,
            GgmlType.Q4_1 => FileType.Q4_1,
            GgmlType.Q5_0 => FileType.Q5_0,
            GgmlType.Q5_1 => FileType.Q5_1,
            GgmlType.Q8_0 => FileType.Q8_0,
            GgmlType.Q2_K => FileType.Q2_K,
            GgmlType.Q3_K => FileType.Q3_K_M,
            GgmlType.Q4_K => FileType.Q4_K_M,
            GgmlType.Q5_K => FileType.Q5_K_M,
            _ => FileType.Q6_K,
        };
    }
}
