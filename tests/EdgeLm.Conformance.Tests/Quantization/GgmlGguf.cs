using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using EdgeLm.Conformance.Tests.Oracle;

namespace EdgeLm.Conformance.Tests.Quantization;

/// <summary>
/// ggml's own GGUF reader and writer (libggml-base, the library llama-imatrix and llama-quantize use), called
/// directly, so imatrix files can be checked against the code that reads and writes them in llama.cpp.
/// </summary>
internal static class GgmlGguf
{
    private const int GgmlTypeF32 = 0;
    private const int GgufTypeUInt32 = 4, GgufTypeString = 8, GgufTypeArray = 9;

    [StructLayout(LayoutKind.Sequential)]
    private struct GgufInitParams
    {
        public byte NoAlloc;
        public nint Context; // struct ggml_context **
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct GgmlInitParams
    {
        public nuint MemSize;
        public nint MemBuffer;
        public byte NoAlloc;
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nint InitFromFile(nint path, GgufInitParams init);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate long CountOf(nint ctx);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nint PointerAt(nint ctx, long i);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate int IntAt(nint ctx, long i);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate uint UIntAt(nint ctx, long i);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nuint SizeAt(nint ctx, long i);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nint StringAt(nint ctx, long key, nuint i);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nint Lookup(nint ctx, nint name);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate long TensorCount(nint tensor);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nint TensorData(nint tensor);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void Free(nint ctx);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nint GgmlInit(GgmlInitParams init);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nint Create();
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void SetString(nint ctx, nint key, nint value);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void SetStrings(nint ctx, nint key, nint[] values, nuint n);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void SetUInt(nint ctx, nint key, uint value);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nint NewTensor2d(nint ctx, int type, long ne0, long ne1);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate nint SetName(nint tensor, nint name);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate void AddTensor(nint ctx, nint tensor);
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)] private delegate byte WriteToFile(nint ctx, nint path, byte onlyMeta);

    private static readonly Lazy<nint> Library = new(Load);

    private static nint Load()
    {
        // LLamaSharp loads llama.cpp (and with it libggml-base) from the test output; the same file is opened here.
        LlamaCppNative.EnsureLoaded();
        string flavour = Avx2.IsSupported ? "avx2" : "noavx";
        string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", flavour, "libggml-base.so");
        return NativeLibrary.Load(path);
    }

    private static T Fn<T>(string name) where T : Delegate =>
        Marshal.GetDelegateForFunctionPointer<T>(NativeLibrary.GetExport(Library.Value, name));

    /// <summary>What ggml's reader sees in an imatrix file: metadata, value types by key, and every F32 tensor.</summary>
    public sealed record Contents(string? GeneralType, string[] Datasets, uint ChunkCount, uint ChunkSize,
        Dictionary<string, (long Columns, long Rows, float[] Values)> Tensors, Dictionary<string, int> KeyTypes);

    /// <summary>Reads <paramref name="path"/> with gguf_init_from_file, tensor data included; null when ggml refuses it.</summary>
    public static Contents? Read(string path)
    {
        lock (LlamaCppNative.Gate)
        {
            var allocated = new Allocations();
            nint contextSlot = allocated.Bytes(IntPtr.Size);
            Marshal.WriteIntPtr(contextSlot, 0);
            try
            {
                nint gguf = Fn<InitFromFile>("gguf_init_from_file")(allocated.Utf8(path), new GgufInitParams { NoAlloc = 0, Context = contextSlot });
                if (gguf == 0)
                    return null;
                nint ggmlContext = Marshal.ReadIntPtr(contextSlot);
                try
                {
                    var keyName = Fn<PointerAt>("gguf_get_key");
                    var kvType = Fn<IntAt>("gguf_get_kv_type");
                    var keyTypes = new Dictionary<string, int>();
                    string? generalType = null;
                    string[] datasets = [];
                    uint chunkCount = 0, chunkSize = 0;
                    long nKv = Fn<CountOf>("gguf_get_n_kv")(gguf);
                    for (long i = 0; i < nKv; i++)
                    {
                        string key = Marshal.PtrToStringUTF8(keyName(gguf, i))!;
                        int type = kvType(gguf, i);
                        keyTypes[key] = type;
                        if (key == "general.type" && type == GgufTypeString)
                            generalType = Marshal.PtrToStringUTF8(Fn<PointerAt>("gguf_get_val_str")(gguf, i));
                        else if (key == "imatrix.chunk_count" && type == GgufTypeUInt32)
                            chunkCount = Fn<UIntAt>("gguf_get_val_u32")(gguf, i);
                        else if (key == "imatrix.chunk_size" && type == GgufTypeUInt32)
                            chunkSize = Fn<UIntAt>("gguf_get_val_u32")(gguf, i);
                        else if (key == "imatrix.datasets" && type == GgufTypeArray)
                        {
                            int n = (int)Fn<SizeAt>("gguf_get_arr_n")(gguf, i);
                            var arrStr = Fn<StringAt>("gguf_get_arr_str");
                            datasets = Enumerable.Range(0, n).Select(j => Marshal.PtrToStringUTF8(arrStr(gguf, i, (nuint)j))!).ToArray();
                        }
                    }

                    var tensorName = Fn<PointerAt>("gguf_get_tensor_name");
                    var tensorType = Fn<IntAt>("gguf_get_tensor_type");
                    var getTensor = Fn<Lookup>("ggml_get_tensor");
                    var nElements = Fn<TensorCount>("ggml_nelements");
                    var nRows = Fn<TensorCount>("ggml_nrows");
                    var data = Fn<TensorData>("ggml_get_data_f32");
                    var tensors = new Dictionary<string, (long, long, float[])>();
                    long nTensors = Fn<CountOf>("gguf_get_n_tensors")(gguf);
                    for (long i = 0; i < nTensors; i++)
                    {
                        nint namePtr = tensorName(gguf, i);
                        if (tensorType(gguf, i) != GgmlTypeF32)
                            continue;
                        nint t = getTensor(ggmlContext, namePtr);
                        long n = nElements(t), rows = nRows(t);
                        var values = new float[n];
                        Marshal.Copy(data(t), values, 0, (int)n);
                        tensors[Marshal.PtrToStringUTF8(namePtr)!] = (n / rows, rows, values);
                    }
                    return new Contents(generalType, datasets, chunkCount, chunkSize, tensors, keyTypes);
                }
                finally
                {
                    Fn<Free>("gguf_free")(gguf);
                    if (ggmlContext != 0)
                        Fn<Free>("ggml_free")(ggmlContext);
                }
            }
            finally
            {
                allocated.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes an imatrix file the way llama-imatrix's save_imatrix does, through ggml: general.type, imatrix.datasets,
    /// chunk_count, chunk_size, then NAME.in_sum2 [columns, 1] and NAME.counts [1, 1] per entry, in the given order.
    /// </summary>
    public static void WriteImatrix(string path, string dataset, uint chunkCount, uint chunkSize, IReadOnlyList<(string Name, float[] Sums, float Count)> entries)
    {
        lock (LlamaCppNative.Gate)
        {
            using var allocated = new Allocations();
            nuint memory = (nuint)(1 << 20) + (nuint)entries.Sum(e => e.Sums.Length * 4 + 4096);
            nint ctx = Fn<GgmlInit>("ggml_init")(new GgmlInitParams { MemSize = memory, NoAlloc = 0 });
            nint gguf = Fn<Create>("gguf_init_empty")();
            try
            {
                Fn<SetString>("gguf_set_val_str")(gguf, allocated.Utf8("general.type"), allocated.Utf8("imatrix"));
                Fn<SetStrings>("gguf_set_arr_str")(gguf, allocated.Utf8("imatrix.datasets"), [allocated.Utf8(dataset)], 1);
                Fn<SetUInt>("gguf_set_val_u32")(gguf, allocated.Utf8("imatrix.chunk_count"), chunkCount);
                Fn<SetUInt>("gguf_set_val_u32")(gguf, allocated.Utf8("imatrix.chunk_size"), chunkSize);

                var new2d = Fn<NewTensor2d>("ggml_new_tensor_2d");
                var setName = Fn<SetName>("ggml_set_name");
                var data = Fn<TensorData>("ggml_get_data_f32");
                var add = Fn<AddTensor>("gguf_add_tensor");
                foreach (var (name, sums, count) in entries)
                {
                    nint s = new2d(ctx, GgmlTypeF32, sums.Length, 1);
                    setName(s, allocated.Utf8(name + ".in_sum2"));
                    Marshal.Copy(sums, 0, data(s), sums.Length);
                    nint c = new2d(ctx, GgmlTypeF32, 1, 1);
                    setName(c, allocated.Utf8(name + ".counts"));
                    Marshal.Copy(new[] { count }, 0, data(c), 1);
                    add(gguf, s);
                    add(gguf, c);
                }
                if (Fn<WriteToFile>("gguf_write_to_file")(gguf, allocated.Utf8(path), 0) == 0)
                    throw new IOException($"ggml could not write {path}.");
            }
            finally
            {
                Fn<Free>("gguf_free")(gguf);
                Fn<Free>("ggml_free")(ctx);
            }
        }
    }

    /// <summary>Native memory for strings and out-parameters, freed together.</summary>
    private sealed class Allocations : IDisposable
    {
        private readonly List<nint> _pointers = [];

        public nint Utf8(string s) => Keep(Marshal.StringToCoTaskMemUTF8(s));

        public nint Bytes(int n) => Keep(Marshal.AllocCoTaskMem(n));

        private nint Keep(nint p)
        {
            _pointers.Add(p);
            return p;
        }

        public void Dispose()
        {
            foreach (var p in _pointers)
                Marshal.FreeCoTaskMem(p);
            _pointers.Clear();
        }
    }
}
