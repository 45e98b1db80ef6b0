using EdgeLm.Compression.Fitting;
using EdgeLm.Compression.Importance;
using EdgeLm.Gguf;
using EdgeLm.Numerics.Quants;
using EdgeLm.Runtime;
using EdgeLm.Runtime.Synthesis;
using EdgeLm.Testing;

namespace EdgeLm.Compression.Tests.Fitting;

/// <summary>
/// Shared, measured-once material for the fit tests, in a temporary folder: the tinystories sample split into a
/// calibration half and a held-back half; "llama8" (a random 8-layer Llama with 256-wide rows, so k-quants apply) and
/// the real stories260K (64-wide rows: legacy quants and F16 only); for each an importance matrix collected on the
/// calibration half and the fit measurements (measured sensitivities) made with it.
/// </summary>
public sealed class FitFixture : IDisposable
{
    /// <summary>Context the fitted models are sized for (KV cache), and the chunk length of calibration and evaluation.</summary>
    public const int Context = 256, Chunk = 128;

    /// <summary>Threads the memory model is sized for and the work runs on.</summary>
    public const int Threads = 2;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (ImportanceMatrix Matrix, FitMeasurements Measurements)> _measured = new();
    private string? _llama8;

    public FitFixture()
    {
        Directory.CreateDirectory(Folder);
        string text = File.ReadAllText(RepoPaths.Fixture("corpora", "tinystories-sample.txt"));
        // Split at the sentence end nearest the middle, so neither half starts mid-word.
        int middle = text.IndexOf(". ", text.Length / 2, StringComparison.Ordinal) + 2;
        Calibration = text[..middle];
        HeldBack = text[middle..];
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"edgelm-fit-{Guid.NewGuid():N}");

    /// <summary>First half of the sample: importance matrix and sensitivity probes.</summary>
    public string Calibration { get; }

    /// <summary>Second half: where fitted models are judged.</summary>
    public string HeldBack { get; }

    public static string Stories260K => RepoPaths.Stories260K;

    public string Llama8
    {
        get
        {
            lock (_gate)
            {
                if (_llama8 is null)
                {
                    string path = Path.Combine(Folder, "llama8.gguf");
                    using (var vocab = GgufFile.Open(RepoPaths.Stories260K))
                    {
                        ModelSynthesizer.Write(path, new SynthesisOptions
                        {
                            Architecture = "llama", EmbeddingLength = 256, BlockCount = 8, HeadCount = 8, KeyValueHeadCount = 2,
                            FeedForwardLength = 256, StandardDeviation = 0.1f, Seed = 5, ContextLength = 256, Type = GgmlType.F16,
                        }, vocab.MetadataInOrder);
                    }
                    _llama8 = path;
                }
                return _llama8;
            }
        }
    }

    /// <summary>The model path for a short name: "llama8" or "stories260K".</summary>
    public string Model(string name) => name switch
    {
        "llama8" => Llama8,
        "stories260K" => Stories260K,
        _ => throw new ArgumentException(name),
    };

    /// <summary>The options every fit test uses (the budget is set per call).</summary>
    public static FitOptions Options(long budget, ImportanceMatrix? matrix = null, SensitivityModel sensitivity = SensitivityModel.Relative,
        IReadOnlyList<int>? calibration = null) => new()
    {
        Budget = budget,
        ContextLength = Context,
        Threads = Threads,
        Margin = 0,
        Importance = matrix,
        Sensitivity = sensitivity,
        CalibrationTokens = calibration,
        CalibrationContext = Chunk,
        CalibrationChunks = 3,
        MaxSampledRows = 64,
    };

    /// <summary>The importance matrix on the calibration half and the measurements (measured sensitivities) of a model, made once.</summary>
    public (ImportanceMatrix Matrix, FitMeasurements Measurements) Measured(string name)
    {
        string path = Model(name);
        lock (_gate)
        {
            if (!_measured.TryGetValue(name, out var result))
            {
                using var model = LanguageModel.Load(path);
                var tokens = model.Tokenizer.Encode(Calibration, addSpecial: true, parseSpecial: false);
                var matrix = ImportanceCollector.Collect(model, tokens, new ImportanceOptions { ContextLength = Chunk, IncludeOutput = true, Threads = Threads });
                var measurements = ModelFitter.Measure(path, Options(1, matrix, SensitivityModel.Measured, tokens));
                _measured[name] = result = (matrix, measurements);
            }
            return result;
        }
    }

    /// <summary>A fresh path in the temporary folder.</summary>
    public string NewPath(string stem) => Path.Combine(Folder, $"{stem}-{Guid.NewGuid():N}.gguf");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
