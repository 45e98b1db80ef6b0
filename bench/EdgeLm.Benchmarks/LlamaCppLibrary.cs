using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using LLama.Native;

namespace EdgeLm.Benchmarks;

/// <summary>
/// Loads llama.cpp (LLamaSharp.Backend.Cpu) once per process, choosing the fastest build the package ships for this
/// CPU: AVX-512 where the CPU has it, else AVX2, AVX, none. This differs from the conformance oracle on purpose: the
/// oracle pins the AVX2 build for the same kernels on every machine, a speed comparison wants llama.cpp at its best.
/// </summary>
/// <remarks>
/// Must run before the linked oracle code (<c>LlamaCppNative</c>, used by the quantizer) touches the library: that
/// code pins AVX2 only when nothing is loaded yet, and otherwise just installs its log callback.
/// llama.cpp's log is dropped unless EDGELM_BENCH_LOG=1.
/// </remarks>
internal static class LlamaCppLibrary
{
    private static readonly NativeLogConfig.LLamaLogCallback LogCallback = OnLog;
    private static readonly bool EchoLog = Environment.GetEnvironmentVariable("EDGELM_BENCH_LOG") == "1";
    private static readonly Lazy<string> Loaded = new(LoadOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The AVX level asked for: the best this CPU supports.</summary>
    public static AvxLevel BestLevel =>
        Avx512F.IsSupported && Avx512BW.IsSupported ? AvxLevel.Avx512
        : Avx2.IsSupported ? AvxLevel.Avx2
        : Avx.IsSupported ? AvxLevel.Avx
        : AvxLevel.None;

    /// <summary>Which native build was loaded and llama.cpp's own feature line (llama_print_system_info).</summary>
    public static string Description => Loaded.Value;

    public static void EnsureLoaded() => _ = Loaded.Value;

    private static string LoadOnce()
    {
        if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
            NativeLibraryConfig.All.WithAvx(BestLevel).WithLogCallback(LogCallback);
        NativeApi.llama_empty_call();
        var library = NativeApi.GetLoadedNativeLibrary(NativeLibraryName.LLama);
        string info = Marshal.PtrToStringUTF8(NativeApi.llama_print_system_info())?.Trim() ?? "";
        return $"{library?.Metadata?.ToString() ?? "unknown build"}; {info}";
    }

    private static readonly Lock NotesLock = new();
    private static readonly List<string> NotesList = [];

    /// <summary>
    /// llama.cpp's log lines about the choices it made for itself (flash attention, weight repacking), so the report
    /// states what actually ran.
    /// </summary>
    public static IReadOnlyList<string> Notes
    {
        get
        {
            lock (NotesLock)
                return NotesList.Distinct().ToArray();
        }
    }

    private static void OnLog(LLamaLogLevel level, string message)
    {
        if (EchoLog)
            Console.Error.Write(message);
        if (message.Contains("flash", StringComparison.OrdinalIgnoreCase) || message.Contains("REPACK", StringComparison.Ordinal))
        {
            lock (NotesLock)
                NotesList.Add(message.Trim());
        }
    }
}
