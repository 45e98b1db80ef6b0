using EdgeLm.Numerics.Quants;

namespace EdgeLm.Compression.Quantization;

/// <summary>
/// What a quantized model file holds, numbered as llama.cpp's <c>llama_ftype</c> (the value written to
/// <c>general.file_type</c>). The k-quant names with a suffix are mixes: most tensors take the base type, and
/// llama.cpp's rules give some tensors more bits (see <see cref="TensorTypePlanner"/>).
/// </summary>
public enum FileType : uint
{
    /// <summary>Every tensor in 32-bit float.</summary>
    F32 = 0,
    /// <summary>Matrices in half precision.</summary>
    F16 = 1,
    /// <summary>4.5 bits per weight, symmetric, 32-weight blocks.</summary>
    Q4_0 = 2,
    /// <summary>5 bits per weight, with a min, 32-weight blocks.</summary>
    Q4_1 = 3,
    /// <summary>8.5 bits per weight.</summary>
    Q8_0 = 7,
    /// <summary>5.5 bits per weight, symmetric.</summary>
    Q5_0 = 8,
    /// <summary>6 bits per weight, with a min.</summary>
    Q5_1 = 9,
    /// <summary>Q2_K mix: Q2_K with attn_v, ffn_down, attn_output and output raised.</summary>
    Q2_K = 10,
    /// <summary>Small Q3_K mix: Q3_K nearly everywhere.</summary>
    Q3_K_S = 11,
    /// <summary>Medium Q3_K mix.</summary>
    Q3_K_M = 12,
    /// <summary>Large Q3_K mix.</summary>
    Q3_K_L = 13,
    /// <summary>Small Q4_K mix.</summary>
    Q4_K_S = 14,
    /// <summary>Medium Q4_K mix (llama-quantize's "Q4_K").</summary>
    Q4_K_M = 15,
    /// <summary>Small Q5_K mix.</summary>
    Q5_K_S = 16,
    /// <summary>Medium Q5_K mix (llama-quantize's "Q5_K").</summary>
    Q5_K_M = 17,
    /// <summary>Q6_K everywhere (output Q6_K too).</summary>
    Q6_K = 18,
    /// <summary>Q2_K with fewer raised tensors; needs an importance matrix.</summary>
    Q2_K_S = 21,
    /// <summary>Matrices in bfloat16.</summary>
    BF16 = 32,
}

/// <summary>Names, defaults and sizes of the <see cref="FileType"/> values.</summary>
public static class FileTypes
{
    // llama-quantize's names and aliases (matched case-insensitively).
    private static readonly Dictionary<string, FileType> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["F32"] = FileType.F32, ["F16"] = FileType.F16, ["BF16"] = FileType.BF16,
        ["Q4_0"] = FileType.Q4_0, ["Q4_1"] = FileType.Q4_1, ["Q5_0"] = FileType.Q5_0, ["Q5_1"] = FileType.Q5_1, ["Q8_0"] = FileType.Q8_0,
        ["Q2_K"] = FileType.Q2_K, ["Q2_K_S"] = FileType.Q2_K_S,
        ["Q3_K"] = FileType.Q3_K_M, ["Q3_K_S"] = FileType.Q3_K_S, ["Q3_K_M"] = FileType.Q3_K_M, ["Q3_K_L"] = FileType.Q3_K_L,
        ["Q4_K"] = FileType.Q4_K_M, ["Q4_K_S"] = FileType.Q4_K_S, ["Q4_K_M"] = FileType.Q4_K_M,
        ["Q5_K"] = FileType.Q5_K_M, ["Q5_K_S"] = FileType.Q5_K_S, ["Q5_K_M"] = FileType.Q5_K_M,
        ["Q6_K"] = FileType.Q6_K,
    };

    /// <summary>Every accepted name, llama-quantize's spelling (Q3_K, Q4_K and Q5_K mean the _M mixes).</summary>
    public static IReadOnlyCollection<string> Names => ByName.Keys;

    /// <summary>Looks up a llama-quantize type name (case-insensitive); false for names not supported here.</summary>
    public static bool TryParse(string name, out FileType type) => ByName.TryGetValue(name.Trim(), out type);

    /// <summary>The type most tensors of a <paramref name="type"/> file take (llama.cpp's default type for the ftype).</summary>
    public static GgmlType DefaultTensorType(FileType type) => type switch
    {
        FileType.F32 => GgmlType.F32,
        FileType.F16 => GgmlType.F16,
        FileType.BF16 => GgmlType.BF16,
        FileType.Q4_0 => GgmlType.Q4_0,
        FileType.Q4_1 => GgmlType.Q4_1,
        FileType.Q5_0 => GgmlType.Q5_0,
        FileType.Q5_1 => GgmlType.Q5_1,
        FileType.Q8_0 => GgmlType.Q8_0,
        FileType.Q2_K or FileType.Q2_K_S => GgmlType.Q2_K,
        FileType.Q3_K_S or FileType.Q3_K_M or FileType.Q3_K_L => GgmlType.Q3_K,
        FileType.Q4_K_S or FileType.Q4_K_M => GgmlType.Q4_K,
        FileType.Q5_K_S or FileType.Q5_K_M => GgmlType.Q5_K,
        FileType.Q6_K => GgmlType.Q6_K,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not a file type EdgeLm writes."),
    };

    /// <summary>True for the types whose tensors are block-quantized (not F32, F16 or BF16).</summary>
    public static bool IsQuantized(FileType type) => IsQuantized(DefaultTensorType(type));

    /// <summary>True when <paramref name="type"/> is a block-quantized tensor type (ggml's <c>ggml_is_quantized</c>).</summary>
    public static bool IsQuantized(GgmlType type) => type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.F64
        or GgmlType.I8 or GgmlType.I16 or GgmlType.I32 or GgmlType.I64);
}
