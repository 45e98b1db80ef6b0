namespace EdgeLm.Runtime.Architectures;

/// <summary>
/// Receives a named intermediate result of the forward pass (llama.cpp's names: "attn_norm", "Qcur", "Kcur",
/// "Vcur", "kqv_out", "ffn_inp", "ffn_norm", "ffn_out", "l_out", "result_norm", "result_output"), so a mismatch
/// against a reference can be pinned to one block and one operation.
/// </summary>
/// <param name="name">The result's name.</param>
/// <param name="block">The block index, or -1 outside the blocks.</param>
/// <param name="values">[tokens, width] row-major values, valid only during the call.</param>
/// <param name="tokens">How many token rows <paramref name="values"/> holds.</param>
public delegate void TraceCallback(string name, int block, ReadOnlySpan<float> values, int tokens);
