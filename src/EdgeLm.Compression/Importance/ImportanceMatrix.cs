namespace EdgeLm.Compression.Importance;

/// <summary>
/// Activation statistics of one weight matrix (or stack of expert matrices), as llama.cpp's imatrix stores them.
/// </summary>
/// <param name="Name">The weight tensor's name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="SumOfSquares">
/// [Matrices x Columns]: for each input column j of matrix m, the sum of x_j^2 over every token that went through it
/// (llama.cpp's <c>in_sum2</c>).
/// </param>
/// <param name="Counts">[Matrices]: how many tokens each matrix saw (one value for a dense weight).</param>
public sealed record ImportanceEntry(string Name, float[] SumOfSquares, float[] Counts)
{
    /// <summary>Number of matrices (experts) the entry covers: 1 for a dense weight.</summary>
    public int MatrixCount => Counts.Length;

    /// <summary>Input columns per matrix: the row length of the weight.</summary>
    public int ColumnCount => Counts.Length == 0 ? 0 : SumOfSquares.Length / Counts.Length;

    /// <summary>
    /// The importance llama.cpp's quantizer uses: the mean of x_j^2 per column (sum / count), matrix after matrix;
    /// a matrix that saw no token gets 1 everywhere (as llama-quantize does).
    /// </summary>
    public float[] MeanSquares()
    {
        int columns = ColumnCount;
        var values = new float[SumOfSquares.Length];
        for (int m = 0; m < Counts.Length; m++)
        {
            float count = Counts[m];
            for (int j = 0; j < columns; j++)
                values[m * columns + j] = count > 0 ? SumOfSquares[m * columns + j] / count : 1;
        }
        return values;
    }
}

/// <summary>
/// An importance matrix: per weight matrix, the sum of squared input activations over a calibration text, which tells
/// the quantizer which columns matter (llama.cpp's <c>imatrix</c>). Read and written in llama.cpp's GGUF-based format
/// and its legacy binary <c>.dat</c> format by <see cref="ImportanceMatrixFile"/>.
/// </summary>
public sealed class ImportanceMatrix
{
    private readonly Dictionary<string, ImportanceEntry> _entries;

    /// <summary>Creates a matrix from its entries (names must be distinct).</summary>
    /// <exception cref="ArgumentException">Duplicate names, or an entry whose sums are not a whole number of matrices.</exception>
    public ImportanceMatrix(IEnumerable<ImportanceEntry> entries, IReadOnlyList<string> datasets, int chunkCount, int chunkSize)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(datasets);
        _entries = new Dictionary<string, ImportanceEntry>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (e.Counts.Length == 0 || e.SumOfSquares.Length == 0 || e.SumOfSquares.Length % e.Counts.Length != 0)
                throw new ArgumentException($"Importance entry '{e.Name}': {e.SumOfSquares.Length} sums do not split into {e.Counts.Length} matrices.", nameof(entries));
            if (!_entries.TryAdd(e.Name, e))
                throw new ArgumentException($"Importance entry '{e.Name}' appears twice.", nameof(entries));
        }
        Datasets = datasets.ToArray();
        ChunkCount = chunkCount;
        ChunkSize = chunkSize;
    }

    /// <summary>Entries by weight name, sorted by name (the order llama.cpp writes them in).</summary>
    public IReadOnlyList<ImportanceEntry> Entries => _entries.Values.OrderBy(e => e.Name, StringComparer.Ordinal).ToList();

    /// <summary>Number of entries.</summary>
    public int Count => _entries.Count;

    /// <summary>The calibration files the statistics came from (llama.cpp's <c>imatrix.datasets</c>).</summary>
    public IReadOnlyList<string> Datasets { get; }

    /// <summary>Number of calibration chunks processed (<c>imatrix.chunk_count</c>).</summary>
    public int ChunkCount { get; }

    /// <summary>Tokens per chunk (<c>imatrix.chunk_size</c>); 0 when unknown (legacy files do not store it).</summary>
    public int ChunkSize { get; }

    /// <summary>The entry of weight <paramref name="name"/>, or null.</summary>
    public ImportanceEntry? Find(string name) => _entries.GetValueOrDefault(name);
}
