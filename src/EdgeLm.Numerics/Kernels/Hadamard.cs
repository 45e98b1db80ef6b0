using System.Numerics.Tensors;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// Orthonormal Walsh-Hadamard rotations, which llama.cpp applies to queries, keys and values around a quantized KV
/// cache: rotating spreads a head's outliers over all its elements before 8-bit rounding, and since the matrix is
/// symmetric and orthonormal (H·H = I) the attention result is unchanged apart from rounding.
/// </summary>
public static class Hadamard
{
    /// <summary>
    /// The n x n matrix (n a power of two), row-major: Sylvester's construction H(2m) = [[H, H], [H, -H]] from
    /// H(1) = 1 / sqrt(n), so every entry is +-1/sqrt(n) in float (the values llama.cpp's <c>ggml_gen_hadamard</c> makes).
    /// </summary>
    public static float[] Matrix(int n)
    {
        if (n <= 0 || (n & (n - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(n), n, "The order of a Walsh-Hadamard matrix is a power of two.");
        var h = new float[n * n];
        h[0] = (float)(1.0 / MathF.Sqrt(n));
        for (int s = 1; s < n; s *= 2)
        {
            for (int i = 0; i < s; i++)
            {
                for (int j = 0; j < s; j++)
                {
                    float v = h[i * n + j];
                    h[(i + s) * n + j] = v;
                    h[i * n + j + s] = v;
                    h[(i + s) * n + j + s] = -v;
                }
            }
        }
        return h;
    }

    /// <summary>
    /// x ← H x for every consecutive block of n = sqrt(<paramref name="matrix"/>.Length) values of
    /// <paramref name="x"/> (whose length is a multiple of n); applying it twice gives x back up to rounding.
    /// <paramref name="scratch"/> holds at least n floats. Each output is one float dot product of a matrix row with
    /// the block, as llama.cpp computes the rotation with a matrix product.
    /// </summary>
    public static void RotateBlocks(ReadOnlySpan<float> matrix, Span<float> x, Span<float> scratch)
    {
        int n = (int)Math.Sqrt(matrix.Length);
        if (n * n != matrix.Length || n == 0)
            throw new ArgumentException($"A square matrix has a square number of entries, got {matrix.Length}.", nameof(matrix));
        if (x.Length % n != 0)
            throw new ArgumentException($"{x.Length} values are not a whole number of {n}-value blocks.", nameof(x));
        if (scratch.Length < n)
            throw new ArgumentException($"The scratch needs {n} floats, got {scratch.Length}.", nameof(scratch));
        var block = scratch[..n];
        for (int off = 0; off < x.Length; off += n)
        {
            var v = x.Slice(off, n);
            v.CopyTo(block);
            for (int i = 0; i < n; i++)
                v[i] = TensorPrimitives.Dot(matrix.Slice(i * n, n), block);
        }
    }
}
