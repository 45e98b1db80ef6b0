using System.Runtime.InteropServices;

namespace EdgeLm.Conformance.Tests.Oracle;

/// <summary>
/// The C runtime's environment, which native code reads with getenv: on Unix, .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> changes only a managed copy that llama.cpp never sees.
/// </summary>
internal static class NativeEnvironment
{
    /// <summary>Sets <paramref name="name"/> for native code in this process.</summary>
    public static void Set(string name, string value)
    {
        int result = OperatingSystem.IsWindows() ? PutEnvWindows(name, value) : SetEnvUnix(name, value, 1);
        if (result != 0)
            throw new InvalidOperationException($"Could not set {name} in the native environment (error {result}).");
    }

    /// <summary>Removes <paramref name="name"/> from the native environment.</summary>
    public static void Unset(string name)
    {
        int result = OperatingSystem.IsWindows() ? PutEnvWindows(name, "") : UnsetEnvUnix(name);
        if (result != 0)
            throw new InvalidOperationException($"Could not remove {name} from the native environment (error {result}).");
    }

    // Plain ASCII names and values: the default ANSI string marshalling passes them unchanged.
    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnvUnix(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "unsetenv")]
    private static extern int UnsetEnvUnix(string name);

    [DllImport("ucrtbase", EntryPoint = "_putenv_s")]
    private static extern int PutEnvWindows(string name, string value);
}
