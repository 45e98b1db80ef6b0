using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeLm.Numerics.Kernels;
using EdgeLm.Numerics.Quants;
using EdgeLm.Testing;

namespace EdgeLm.Numerics.Tests;

/// <summary>
/// Runs the SIMD-sensitive tests (Category=Simd) again in child processes with hardware intrinsics switched off,
/// with AVX2 switched off (portable 128-bit kernels), with AVX-VNNI switched off (x86 tile kernels on vpmaddubsw)
/// and with AVX-512 switched off (x86 tile kernels on AVX2 encodings only), so every path runs on a machine that
/// would otherwise take only the widest one. The children see <see cref="ChildVariable"/> and skip this runner (no recursion).
/// </summary>
public class SimdFallbackTests
{
    private const string ChildVariable = "EDGELM_SIMD_CHILD";

    private static bool InChild => Environment.GetEnvironmentVariable(ChildVariable) is not null;

    /// <summary>In a child, proves the environment really changed the kernel path this process takes.</summary>
    [Fact]
    [Trait("Category", "Simd")]
    public void KernelWidthFollowsTheEnvironment()
    {
        string? mode = Environment.GetEnvironmentVariable(ChildVariable);
        if (mode == "nohw")
        {
            Assert.False(Vector128.IsHardwareAccelerated);
            Assert.Equal(0, VecDot.SimdWidth);
        }
        else if (mode == "noavx2")
        {
            Assert.False(Vector256.IsHardwareAccelerated);
            Assert.Equal(Vector128.IsHardwareAccelerated ? 128 : 0, VecDot.SimdWidth);
            Assert.False(X86Tiles.IsSupported);
        }
        else if (mode == "novnni")
        {
            Assert.False(System.Runtime.Intrinsics.X86.AvxVnni.IsSupported);
            Assert.Equal(X86Tiles.IsSupported ? "x86-avx2" + (X86Tiles.UsesAvx512 ? "+avx512" : "") : VecDot.Backend, VecDot.Backend);
            Assert.False(HasPanel16(GgmlType.Q8_0)); // Q8_0's sixteen-row panel needs vpdpbusd
        }
        else if (mode == "noavx512")
        {
            Assert.False(System.Runtime.Intrinsics.X86.Avx512F.IsSupported);
            Assert.False(Vector512.IsHardwareAccelerated);
            Assert.False(X86Tiles.UsesAvx512);
            Assert.False(HasPanel16(GgmlType.Q4_0));
            Assert.False(HasPanel16(GgmlType.Q4_K));
            Assert.DoesNotContain("avx512", VecDot.Backend);
        }
        else
        {
            int expected = Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;
            Assert.Equal(expected, VecDot.SimdWidth);
        }
        // Wherever AVX-512 is on, the legacy formats' prompt path takes the sixteen-row panel (so it is what the
        // Simd tests exercise in the parent run; the noavx512 child runs them on the eight-row panel).
        if (X86Tiles.IsSupported && X86Tiles.UsesAvx512)
        {
            Assert.True(HasPanel16(GgmlType.Q4_0));
            Assert.True(HasPanel16(GgmlType.Q5_1));
            Assert.True(HasPanel16(GgmlType.Q4_K));
            Assert.True(HasPanel16(GgmlType.Q6_K));
            Assert.EndsWith("+avx512", VecDot.Backend);
        }
    }

    /// <summary>True when <paramref name="type"/>'s kernel set has the sixteen-row (AVX-512) prompt panel.</summary>
    private static bool HasPanel16(GgmlType type) => TileKernels.For(type)?.HasPanel16 == true;

    [Theory]
    [InlineData("nohw", "DOTNET_EnableHWIntrinsic")]
    [InlineData("noavx2", "DOTNET_EnableAVX2")]
    [InlineData("novnni", "DOTNET_EnableAVXVNNI")]
    [InlineData("noavx512", "DOTNET_EnableAVX512")]
    public async Task SimdTestsPassWithIntrinsicsDisabled(string mode, string switchVariable)
    {
        if (InChild)
            return; // a child runs only Category=Simd, but guard anyway against running itself
        if (mode != "nohw" && RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return; // these instruction sets exist only on x64: nothing to switch off elsewhere
        if (mode == "novnni" && !System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
            return; // the CPU has no VNNI: the normal run already takes the path without it
        if (mode == "noavx512" && !System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
            return; // likewise without AVX-512

        string dll = typeof(SimdFallbackTests).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        foreach (var arg in new[] { "test", dll, "--filter", "Category=Simd", "--logger", "console;verbosity=normal" })
            start.ArgumentList.Add(arg);
        start.Environment[ChildVariable] = mode;
        start.Environment[switchVariable] = "0";
        if (mode == "noavx512")
            start.Environment["DOTNET_EnableAVX512F"] = "0"; // the name runtimes before .NET 10 read
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using var child = Process.Start(start)!;
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await child.WaitForExitAsync(timeout.Token);
        string output = await stdout + await stderr;
        Assert.True(child.ExitCode == 0, $"child run with {switchVariable}=0 failed (exit {child.ExitCode}):\n{output}");
        var passed = System.Text.RegularExpressions.Regex.Match(output, @"Passed:\s+(\d+)");
        Assert.True(passed.Success && int.Parse(passed.Groups[1].Value) >= 20,
            $"child run with {switchVariable}=0 ran too few tests:\n{output}");
        Assert.DoesNotMatch(@"Failed:\s+[1-9]", output);
    }
}
