using System.Text;

namespace EdgeLm.Conformance.Tests.Support;

/// <summary>Shape of a synthetic Llama model. Every row length should be a multiple of 32 for the legacy quant types.</summary>
public sealed record SyntheticLlamaShape(
    int EmbeddingLength = 64,
    int Layers = 2,
    int Heads = 4,
    int KvHeads = 2,
    int FeedForwardLength = 128,
    int VocabularySize = 512,
    int ContextLength = 512,
    float WeightStd = 0.1f,
    int Seed = 1234);

/// <summary>
/// Writes a small F32 Llama GGUF (v3) with random N(0, std) weights and unit norms, for tests that need a model whose
/// rows all divide into 32-wide blocks (stories260K's 172-wide ffn_down rules out Q4_0..Q8_0). The vocabulary is a
/// made-up SentencePiece one: &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte tokens, then "▁w0", "▁w1", ...
/// Deterministic for a shape. Test support only; the product's writer lives in EdgeLm.Gguf.
/// </summary>
public static class SyntheticLlamaGguf
{
    private const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    private const int Alignment = 32;
    private const uint TypeF32 = 0;

    private enum ValueType : uint { UInt32 = 4, Int32 = 5, Float32 = 6, String = 8, Array = 9 }

    /// <summary>Writes the model to <paramref name="path"/>.</summary>
    public static void Write(string path, SyntheticLlamaShape shape)
    {
        if (shape.EmbeddingLength % shape.Heads != 0 || shape.Heads % shape.KvHeads != 0)
            throw new ArgumentException($"Heads {shape.Heads}/{shape.KvHeads} do not divide the width {shape.EmbeddingLength}.", nameof(shape));
        if (shape.VocabularySize < 3 + 256)
            throw new ArgumentException($"A vocabulary needs at least 259 tokens (specials and bytes), not {shape.VocabularySize}.", nameof(shape));

        var tensors = Tensors(shape);
        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream, Encoding.UTF8);

        w.Write(Magic);
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        var metadata = Metadata(shape);
        w.Write((ulong)metadata.Count);
        foreach (var (key, write) in metadata)
        {
            WriteString(w, key);
            write(w);
        }

        ulong offset = 0;
        foreach (var t in tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Dims.Length);
            foreach (var d in t.Dims)
                w.Write((ulong)d); // ggml order: the row length (ne[0]) first
            w.Write(TypeF32);
            w.Write(offset);
            offset = AlignUp(offset + (ulong)t.Data.Length * sizeof(float));
        }

        Pad(w);
        var random = new Random(shape.Seed);
        foreach (var t in tensors)
        {
            t.Fill(t.Data, random);
            foreach (var v in t.Data)
                w.Write(v);
            Pad(w);
        }
    }

    private sealed record Tensor(string Name, long[] Dims, float[] Data, Action<float[], Random> Fill);

    private static List<Tensor> Tensors(SyntheticLlamaShape s)
    {
        var E = s.EmbeddingLength;
        var kv = E / s.Heads * s.KvHeads;
        var F = s.FeedForwardLength;
        var V = s.VocabularySize;
        var list = new List<Tensor>();
        void Matrix(string name, int rowLength, int rows) =>
            list.Add(new Tensor(name, [rowLength, rows], new float[rowLength * rows], (d, r) => FillNormal(d, r, s.WeightStd)));
        void Norm(string name) =>
            list.Add(new Tensor(name, [E], new float[E], (d, _) => Array.Fill(d, 1f)));

        Matrix("token_embd.weight", E, V);
        for (var l = 0; l < s.Layers; l++)
        {
            Norm($"blk.{l}.attn_norm.weight");
            Matrix($"blk.{l}.attn_q.weight", E, E);
            Matrix($"blk.{l}.attn_k.weight", E, kv);
            Matrix($"blk.{l}.attn_v.weight", E, kv);
            Matrix($"blk.{l}.attn_output.weight", E, E);
            Norm($"blk.{l}.ffn_norm.weight");
            Matrix($"blk.{l}.ffn_gate.weight", E, F);
            Matrix($"blk.{l}.ffn_up.weight", E, F);
            Matrix($"blk.{l}.ffn_down.weight", F, E);
        }
        Norm("output_norm.weight");
        Matrix("output.weight", E, V);
        return list;
    }

    private static List<(string Key, Action<BinaryWriter> Write)> Metadata(SyntheticLlamaShape s)
    {
        var tokens = new string[s.VocabularySize];
        var types = new int[s.VocabularySize];
        var scores = new float[s.VocabularySize];
        (tokens[0], types[0]) = ("<unk>", 2);
        (tokens[1], types[1]) = ("<s>", 3);
        (tokens[2], types[2]) = ("</s>", 3);
        for (var b = 0; b < 256; b++)
            (tokens[3 + b], types[3 + b]) = ($"<0x{b:X2}>", 6);
        for (var i = 3 + 256; i < tokens.Length; i++)
            (tokens[i], types[i], scores[i]) = ($"\u2581w{i - 259}", 1, -(i - 259));

        return
        [
            ("general.architecture", w => Str(w, "llama")),
            ("general.name", w => Str(w, "synthetic")),
            ("llama.context_length", w => U32(w, s.ContextLength)),
            ("llama.embedding_length", w => U32(w, s.EmbeddingLength)),
            ("llama.feed_forward_length", w => U32(w, s.FeedForwardLength)),
            ("llama.block_count", w => U32(w, s.Layers)),
            ("llama.attention.head_count", w => U32(w, s.Heads)),
            ("llama.attention.head_count_kv", w => U32(w, s.KvHeads)),
            ("llama.rope.dimension_count", w => U32(w, s.EmbeddingLength / s.Heads)),
            ("llama.attention.layer_norm_rms_epsilon", w => F32(w, 1e-5f)),
            ("tokenizer.ggml.model", w => Str(w, "llama")),
            ("tokenizer.ggml.tokens", w => ArrayValue(w, ValueType.String, tokens, WriteString)),
            ("tokenizer.ggml.scores", w => ArrayValue(w, ValueType.Float32, scores, (x, v) => x.Write(v))),
            ("tokenizer.ggml.token_type", w => ArrayValue(w, ValueType.Int32, types, (x, v) => x.Write(v))),
            ("tokenizer.ggml.unknown_token_id", w => U32(w, 0)),
            ("tokenizer.ggml.bos_token_id", w => U32(w, 1)),
            ("tokenizer.ggml.eos_token_id", w => U32(w, 2)),
        ];
    }

    private static void Str(BinaryWriter w, string value)
    {
        w.Write((uint)ValueType.String);
        WriteString(w, value);
    }

    private static void U32(BinaryWriter w, int value)
    {
        w.Write((uint)ValueType.UInt32);
        w.Write(checked((uint)value));
    }

    private static void F32(BinaryWriter w, float value)
    {
        w.Write((uint)ValueType.Float32);
        w.Write(value);
    }

    private static void ArrayValue<T>(BinaryWriter w, ValueType elementType, T[] values, Action<BinaryWriter, T> write)
    {
        w.Write((uint)ValueType.Array);
        w.Write((uint)elementType);
        w.Write((ulong)values.Length);
        foreach (var v in values)
            write(w, v);
    }

    private static void WriteString(BinaryWriter w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void Pad(BinaryWriter w)
    {
        w.Flush();
        var position = (ulong)w.BaseStream.Position;
        for (var i = position; i < AlignUp(position); i++)
            w.Write((byte)0);
    }

    private static ulong AlignUp(ulong x) => (x + Alignment - 1) / Alignment * Alignment;

    private static void FillNormal(float[] data, Random random, float std)
    {
        // Box-Muller: two uniforms give two independent standard normals.
        for (var i = 0; i < data.Length; i += 2)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var radius = std * Math.Sqrt(-2.0 * Math.Log(u1));
            data[i] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < data.Length)
                data[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
        }
    }
}
