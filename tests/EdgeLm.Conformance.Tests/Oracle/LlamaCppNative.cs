using System.Runtime.Intrinsics.X86;
using System.Text;
using LLama.Native;

namespace EdgeLm.Conformance.Tests.Oracle;

/// <summary>
/// Process-wide state of the in-process llama.cpp: the one-time library load (which also runs
/// llama_backend_init), the lock that serializes every native call, and the log capture.
/// </summary>
/// <remarks>
/// llama.cpp's log goes nowhere by default here (tests stay quiet); warnings and errors are kept in a small
/// ring so that failures can quote them. Set EDGELM_ORACLE_LOG=1 to echo the whole native log to stderr.
/// The x86-64 AVX2 build is pinned when the CPU has AVX2 (LLamaSharp would otherwise pick the AVX-512 build on
/// machines that have it): the oracle then computes with the same kernels on every CI machine.
/// </remarks>
internal static class LlamaCppNative
{
    private const int MaxKeptMessages = 32;

    private static readonly Lock LogLock = new();
    private static readonly Queue<string> RecentProblems = new();
    private static readonly StringBuilder PendingLine = new();
    private static readonly bool EchoLog = Environment.GetEnvironmentVariable("EDGELM_ORACLE_LOG") == "1";

    // Kept in a static field: llama.cpp holds a pointer to this delegate for the life of the process.
    private static readonly NativeLogConfig.LLamaLogCallback LogCallback = OnLog;

    private static readonly Lazy<string> Loaded = new(LoadOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    private static LLamaLogLevel _pendingLevel = LLamaLogLevel.None;

    /// <summary>Held around every call into llama.cpp: contexts, loads and quantization run one at a time.</summary>
    public static Lock Gate { get; } = new();

    /// <summary>The CPU features of the loaded llama.cpp build (llama_print_system_info), loading it first.</summary>
    public static string SystemInfo => Loaded.Value;

    /// <summary>Loads the native library and initializes the ggml backend, once per process.</summary>
    public static void EnsureLoaded() => _ = Loaded.Value;

    /// <summary>Forgets the messages logged so far; call at the start of an operation, holding <see cref="Gate"/>.</summary>
    public static void ClearProblems()
    {
        lock (LogLock)
        {
            RecentProblems.Clear();
            PendingLine.Clear();
            _pendingLevel = LLamaLogLevel.None;
        }
    }

    /// <summary>
    /// An exception for a failed <paramref name="operation"/>, quoting llama.cpp's warnings and errors since the last
    /// <see cref="ClearProblems"/>.
    /// </summary>
    public static LlamaCppException Failure(string operation, Exception? inner = null)
    {
        string log;
        lock (LogLock)
        {
            FlushPendingLine();
            log = RecentProblems.Count == 0
                ? " llama.cpp logged no warning or error."
                : " llama.cpp said: " + string.Join(" | ", RecentProblems);
        }
        var message = operation + "." + log;
        return inner is null ? new LlamaCppException(message) : new LlamaCppException(message, inner);
    }

    private static string LoadOnce()
    {
        if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
        {
            var config = NativeLibraryConfig.All.WithLogCallback(LogCallback);
            if (Avx2.IsSupported)
                config.WithAvx(AvxLevel.Avx2);
        }
        else
        {
            NativeLogConfig.llama_log_set(LogCallback);
        }

        try
        {
            // Touching NativeApi runs its static constructor: it loads libllama and calls llama_backend_init.
            NativeApi.llama_empty_call();
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or LLama.Exceptions.RuntimeError)
        {
            throw Failure(
                "Could not load llama.cpp (LLamaSharp.Backend.Cpu). On Linux its libraries need glibc >= 2.34, " +
                "libstdc++ with GLIBCXX_3.4.29 and libgomp.so.1 (Debian: apt-get install libgomp1)", ex);
        }

        var info = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NativeApi.llama_print_system_info());
        return info?.Trim() ?? "";
    }

    private static void OnLog(LLamaLogLevel level, string message)
    {
        if (EchoLog)
            Console.Error.Write(message);

        lock (LogLock)
        {
            // llama.cpp writes some lines in pieces: Continue extends the previous message.
            if (level != LLamaLogLevel.Continue)
            {
                FlushPendingLine();
                _pendingLevel = level;
            }
            if (_pendingLevel is LLamaLogLevel.Warning or LLamaLogLevel.Error)
                PendingLine.Append(message);
            if (message.EndsWith('\n'))
                FlushPendingLine();
        }
    }

    private static void FlushPendingLine()
    {
        if (PendingLine.Length == 0)
            return;
        var line = PendingLine.ToString().Trim();
        PendingLine.Clear();
        if (line.Length == 0)
            return;
        if (RecentProblems.Count == MaxKeptMessages)
            RecentProblems.Dequeue();
        RecentProblems.Enqueue(line);
    }
}
