using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace EdgeLm.Numerics.Tests;

/// <summary>
/// Entry points of llama.cpp's ggml (libggml-base / libggml-cpu, AVX2 build from LLamaSharp.Backend.Cpu), loaded
/// from the test output folder. Available on Linux x64 with AVX2 and FMA (CI's machine); elsewhere
/// <see cref="Instance"/> is null and the oracle tests have nothing to compare against.
/// </summary>
internal sealed class GgmlOracle
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void QuantizeRow(float[] x, byte[] y, long k);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void DequantizeRow(byte[] x, float[] y, long k);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    public delegate void VecDot(int n, out float s, nuint bs, byte[] x, nuint bx, byte[] y, nuint by, int nrc);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void CpuInit();

    private readonly nint _base;
    private readonly nint _cpu;

    private GgmlOracle(nint baseLib, nint cpuLib)
    {
        _base = baseLib;
        _cpu = cpuLib;
        Marshal.GetDelegateForFunctionPointer<CpuInit>(NativeLibrary.GetExport(_cpu, "ggml_cpu_init"))();
    }

    public static GgmlOracle? Instance { get; } = Load();

    private static GgmlOracle? Load()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64 || !Avx2.IsSupported || !Fma.IsSupported)
            return null;
        string dir = Path.Combine(AppContext.BaseDirectory, "ggml-oracle");
        // libggml-base first: once loaded, it satisfies libggml-cpu's dependency on it.
        var baseLib = NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        var cpuLib = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
        return new GgmlOracle(baseLib, cpuLib);
    }

    /// <summary>A <c>quantize_row_*_ref</c> from libggml-base (e.g. "q4_K").</summary>
    public QuantizeRow ReferenceQuantizer(string type) =>
        Marshal.GetDelegateForFunctionPointer<QuantizeRow>(NativeLibrary.GetExport(_base, $"quantize_row_{type}_ref"));

    /// <summary>The CPU backend's run-time activation quantizer <c>quantize_row_*</c> (e.g. "q8_0").</summary>
    public QuantizeRow CpuQuantizer(string type) =>
        Marshal.GetDelegateForFunctionPointer<QuantizeRow>(NativeLibrary.GetExport(_cpu, $"quantize_row_{type}"));

    /// <summary>A <c>dequantize_row_*</c> from libggml-base.</summary>
    public DequantizeRow Dequantizer(string type) =>
        Marshal.GetDelegateForFunctionPointer<DequantizeRow>(NativeLibrary.GetExport(_base, $"dequantize_row_{type}"));

    /// <summary>A <c>ggml_vec_dot_*</c> from libggml-cpu (e.g. "q4_K_q8_K", "f16").</summary>
    public VecDot Dot(string name) =>
        Marshal.GetDelegateForFunctionPointer<VecDot>(NativeLibrary.GetExport(_cpu, $"ggml_vec_dot_{name}"));
}
