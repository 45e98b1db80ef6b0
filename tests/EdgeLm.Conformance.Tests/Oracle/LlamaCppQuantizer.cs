using System.Runtime.InteropServices;
using System.Text;
using LLama.Native;

namespace EdgeLm.Conformance.Tests.Oracle;

/// <summary>
/// llama.cpp's model quantizer (llama_model_quantize), called the way llama-quantize calls it: output.weight is
/// quantized too (unless asked otherwise) and type names match exactly, so the files equal llama-quantize's.
/// LLamaSharp's own LLamaQuantizer is avoided: it leaves output.weight in float by default, matches type names
/// loosely and refuses BF16.
/// </summary>
/// <remarks>
/// llama.cpp needs every row length to be a multiple of the block size. K-quant types fall back for rows that are
/// not (to Q8_0/Q5_0/IQ4_NL..., then F16); the legacy types Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 have no fallback and
/// fail. stories260K's ffn_down rows are 172 wide, so only F32/F16/BF16 and the k-quants work on it.
/// </remarks>
public static class LlamaCppQuantizer
{
    // llama-quantize's names (case-insensitive here), plus its aliases Q3_K / Q4_K / Q5_K for the _M mixes.
    private static readonly Dictionary<string, LLamaFtype> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        ["F32"] = LLamaFtype.ALL_F32,
        ["F16"] = LLamaFtype.MOSTLY_F16,
        ["BF16"] = LLamaFtype.MOSTLY_BF16,
        ["Q8_0"] = LLamaFtype.MOSTLY_Q8_0,
        ["Q4_0"] = LLamaFtype.MOSTLY_Q4_0,
        ["Q4_1"] = LLamaFtype.MOSTLY_Q4_1,
        ["Q5_0"] = LLamaFtype.MOSTLY_Q5_0,
        ["Q5_1"] = LLamaFtype.MOSTLY_Q5_1,
        ["Q2_K"] = LLamaFtype.MOSTLY_Q2_K,
        ["Q2_K_S"] = LLamaFtype.MOSTLY_Q2_K_S,
        ["Q3_K_S"] = LLamaFtype.MOSTLY_Q3_K_S,
        ["Q3_K_M"] = LLamaFtype.MOSTLY_Q3_K_M,
        ["Q3_K"] = LLamaFtype.MOSTLY_Q3_K_M,
        ["Q3_K_L"] = LLamaFtype.MOSTLY_Q3_K_L,
        ["Q4_K_S"] = LLamaFtype.MOSTLY_Q4_K_S,
        ["Q4_K_M"] = LLamaFtype.MOSTLY_Q4_K_M,
        ["Q4_K"] = LLamaFtype.MOSTLY_Q4_K_M,
        ["Q5_K_S"] = LLamaFtype.MOSTLY_Q5_K_S,
        ["Q5_K_M"] = LLamaFtype.MOSTLY_Q5_K_M,
        ["Q5_K"] = LLamaFtype.MOSTLY_Q5_K_M,
        ["Q6_K"] = LLamaFtype.MOSTLY_Q6_K,
    };

    /// <summary>The type names <see cref="Quantize"/> accepts.</summary>
    public static IReadOnlyCollection<string> TypeNames => Types.Keys;

    /// <summary>Writes a copy of <paramref name="input"/> quantized to <paramref name="type"/> at <paramref name="output"/>.</summary>
    /// <param name="type">A llama-quantize type name: Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_M, Q4_K_M, Q4_K_S, Q5_K_M, Q6_K, F16, BF16, ...</param>
    /// <param name="quantizeOutputTensor">Quantize output.weight as llama-quantize does; false keeps it as it is.</param>
    /// <param name="importance">
    /// Importance per weight name (mean squares of the activations, llama-quantize's values after loading an imatrix
    /// file), handed to llama.cpp as its <c>llama_model_imatrix_data</c> array; null for none.
    /// </param>
    /// <param name="pure">One type for every quantized tensor (llama-quantize --pure).</param>
    /// <exception cref="ArgumentException">Unknown type, or input and output are the same file.</exception>
    /// <exception cref="FileNotFoundException">No input file.</exception>
    /// <exception cref="LlamaCppException">llama.cpp failed; the message quotes its log.</exception>
    public static void Quantize(string input, string output, string type, bool quantizeOutputTensor = true, int threads = 2,
        IReadOnlyDictionary<string, float[]>? importance = null, bool pure = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (!Types.TryGetValue(type, out var ftype))
            throw new ArgumentException($"Unknown quantization type '{type}'; known: {string.Join(", ", Types.Keys)}.", nameof(type));
        var source = Path.GetFullPath(input);
        var target = Path.GetFullPath(output);
        if (!File.Exists(source))
            throw new FileNotFoundException($"No GGUF model at {source}.", source);
        if (string.Equals(source, target, StringComparison.Ordinal))
            throw new ArgumentException($"Input and output are the same file ({source}).", nameof(output));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);

        // The parameter defaults come from the native library, so it must be loaded before they are read.
        LlamaCppNative.EnsureLoaded();
        // llama.cpp writes as it goes and can leave half a file behind on failure: write beside the target and
        // move into place only once complete, so the target is either the whole new file or untouched.
        var partial = $"{target}.partial-{Guid.NewGuid():N}";
        var imatrix = importance is null ? null : new NativeImportance(importance);
        try
        {
            lock (LlamaCppNative.Gate)
            {
                LlamaCppNative.ClearProblems();
                var parameters = LLamaModelQuantizeParams.Default();
                parameters.ftype = ftype;
                parameters.nthread = threads;
                parameters.quantize_output_tensor = quantizeOutputTensor;
                parameters.allow_requantize = false;
                parameters.pure = pure;
                if (imatrix is not null)
                    parameters.imatrix = imatrix.Pointer;
                var status = NativeApi.llama_model_quantize(source, partial, ref parameters);
                if (status != 0)
                    throw LlamaCppNative.Failure($"llama_model_quantize returned {status} quantizing {source} to {type}");
            }
            File.Move(partial, target, overwrite: true);
        }
        finally
        {
            File.Delete(partial);
            imatrix?.Dispose();
        }
    }

    /// <summary>
    /// llama.cpp's <c>llama_model_imatrix_data</c> array in native memory: { const char* name; const float* data;
    /// size_t size; } per weight, ended by an all-zero entry.
    /// </summary>
    private sealed class NativeImportance : IDisposable
    {
        private readonly List<nint> _allocations = [];

        public NativeImportance(IReadOnlyDictionary<string, float[]> values)
        {
            int entrySize = 2 * IntPtr.Size + IntPtr.Size;
            Pointer = Alloc(entrySize * (values.Count + 1));
            int i = 0;
            foreach (var (name, data) in values)
            {
                var utf8 = Encoding.UTF8.GetBytes(name + "\0");
                nint namePtr = Alloc(utf8.Length);
                Marshal.Copy(utf8, 0, namePtr, utf8.Length);
                nint dataPtr = Alloc(Math.Max(1, data.Length) * sizeof(float));
                Marshal.Copy(data, 0, dataPtr, data.Length);
                Marshal.WriteIntPtr(Pointer, i * entrySize, namePtr);
                Marshal.WriteIntPtr(Pointer, i * entrySize + IntPtr.Size, dataPtr);
                Marshal.WriteIntPtr(Pointer, i * entrySize + 2 * IntPtr.Size, (nint)data.Length);
                i++;
            }
            for (int b = 0; b < entrySize; b++)
                Marshal.WriteByte(Pointer, i * entrySize + b, 0);
        }

        public nint Pointer { get; }

        private nint Alloc(int bytes)
        {
            nint p = Marshal.AllocHGlobal(bytes);
            _allocations.Add(p);
            return p;
        }

        public void Dispose()
        {
            foreach (var p in _allocations)
                Marshal.FreeHGlobal(p);
            _allocations.Clear();
        }
    }
}
