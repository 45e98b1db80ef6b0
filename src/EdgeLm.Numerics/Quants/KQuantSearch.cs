namespace EdgeLm.Numerics.Quants;

/// <summary>
/// The scale searches ggml's k-quant quantizers use to pick each sub-block's scale (and min) before the codes are
/// rounded, with weights computed from the data (reference quantizers) or given by the caller (from an importance
/// matrix, <c>quantize_row_*_impl</c>). Float operations follow ggml's order so the chosen codes match.
/// </summary>
internal static class KQuantSearch
{
    /// <summary>Below this magnitude a group counts as all zero (ggml's GROUP_MAX_EPS).</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// ggml's <c>make_qx_quants</c> with rmse_type 1 and explicit weights: symmetric codes in [-nmax, nmax), stored in
    /// <paramref name="levels"/> offset by +nmax; tries 19 candidate scales around nmax / max and keeps the best
    /// weighted least-squares fit. Returns the scale (0 for an all-zero group).
    /// </summary>
    public static float Symmetric(ReadOnlySpan<float> x, int nmax, Span<sbyte> levels, ReadOnlySpan<float> weights)
    {
        int n = x.Length;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(QuantMath.NearestInt(iscale * x[i]), -nmax, nmax - 1);
            levels[i] = (sbyte)(l + nmax);
            float w = weights[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0)
                continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(QuantMath.NearestInt(iscale * x[i]), -nmax, nmax - 1);
                float w = weights[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; i++)
                    levels[i] = (sbyte)(nmax + Math.Clamp(QuantMath.NearestInt(iscale * x[i]), -nmax, nmax - 1));
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// <see cref="Symmetric"/> weighted by x^2 (ggml's <c>make_qx_quants</c> with rmse_type 1 and no importance), for
    /// groups of at most 32 values.
    /// </summary>
    public static float SymmetricWeighted(ReadOnlySpan<float> x, int nmax, Span<sbyte> levels)
    {
        Span<float> weights = stackalloc float[32];
        weights = weights[..x.Length];
        for (int i = 0; i < x.Length; i++)
            weights[i] = x[i] * x[i];
        return Symmetric(x, nmax, levels, weights);
    }

    /// <summary>
    /// ggml's <c>make_q3_quants</c> with do_rmse: symmetric codes in [-nmax, nmax) refined one at a time (up to five
    /// sweeps) while the x^2-weighted fit improves; codes stored offset by +nmax, returns the scale.
    /// </summary>
    public static float SymmetricRefined(ReadOnlySpan<float> x, int nmax, Span<sbyte> levels)
    {
        int n = x.Length;
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(QuantMath.NearestInt(iscale * x[i]), -nmax, nmax - 1);
            levels[i] = (sbyte)l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int sweep = 0; sweep < 5; sweep++)
        {
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * levels[i];
                if (slx > 0)
                {
                    float sl2 = suml2 - w * levels[i] * levels[i];
                    int newL = Math.Clamp(QuantMath.NearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
                    if (newL != levels[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            levels[i] = (sbyte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0)
                break;
        }
        for (int i = 0; i < n; i++)
            levels[i] += (sbyte)nmax;
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /// <summary>
    /// ggml's <c>make_qkx2_quants</c> (and, with importance weights and squared error, <c>make_qkx3_quants</c>):
    /// affine codes in [0, nmax] for x ~ scale * code - min, min &gt;= 0 returned through <paramref name="theMin"/>.
    /// Starts from the min/max grid, then tries nstep + 1 scales and fits scale and min to each by weighted least
    /// squares, keeping the lowest weighted error: |diff| when <paramref name="useMad"/>, else diff^2.
    /// </summary>
    public static float Affine(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, int nmax, Span<byte> levels, out float theMin,
        Span<byte> scratch, float rmin, float rdelta, int nstep, bool useMad = false)
    {
        int n = x.Length;
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0)
            min = 0;
        if (max <= min)
        {
            levels[..n].Clear();
            theMin = -min;
            return 0;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Clamp(QuantMath.NearestInt(iscale * (x[i] - min)), 0, nmax);
            levels[i] = (byte)l;
            float diff = scale * levels[i] + min - x[i];
            bestError += weights[i] * (useMad ? MathF.Abs(diff) : diff * diff);
        }
        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }
        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                // The best min so far can sit near max, so v may be huge: clamp before rounding.
                float v = iscale * (x[i] - min);
                int l = v > 0 ? QuantMath.NearestInt(MathF.Min(v, nmax)) : 0;
                scratch[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * scratch[i] + thisMin - x[i];
                    error += weights[i] * (useMad ? MathF.Abs(diff) : diff * diff);
                }
                if (error < bestError)
                {
                    scratch[..n].CopyTo(levels);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    /// <summary>
    /// ggml's <c>make_qp_quants</c>: codes in [0, nmax] for non-negative values (the sub-block scales and mins of the
    /// k-quants). Picks the best of nine scales around nmax / max by weighted squared error, then refines codes one at
    /// a time (up to five sweeps) while the weighted fit improves. Returns the scale.
    /// </summary>
    public static float Positive(ReadOnlySpan<float> x, int nmax, Span<byte> levels, ReadOnlySpan<float> weights)
    {
        int n = x.Length;
        float max = 0;
        for (int i = 0; i < n; i++)
            max = MathF.Max(max, x[i]);
        if (max < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; i++)
            levels[i] = (byte)QuantMath.NearestInt(iscale * x[i]);
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; i++)
        {
            float diff = x[i] - scale * levels[i];
            bestMse += weights[i] * diff * diff;
        }
        for (int step = -4; step <= 4; step++)
        {
            if (step == 0)
                continue;
            float iscaleStep = (0.1f * step + nmax) / max;
            float scaleStep = 1 / iscaleStep;
            float mse = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Min(nmax, QuantMath.NearestInt(iscaleStep * x[i]));
                float diff = x[i] - scaleStep * l;
                mse += weights[i] * diff * diff;
            }
            if (mse < bestMse)
            {
                bestMse = mse;
                iscale = iscaleStep;
            }
        }
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Min(nmax, QuantMath.NearestInt(iscale * x[i]));
            levels[i] = (byte)l;
            float w = weights[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int sweep = 0; sweep < 5; sweep++)
        {
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                float w = weights[i];
                float slx = sumlx - w * x[i] * levels[i];
                float sl2 = suml2 - w * levels[i] * levels[i];
                if (slx > 0 && sl2 > 0)
                {
                    int newL = Math.Min(nmax, QuantMath.NearestInt(x[i] * sl2 / slx));
                    if (newL != levels[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            levels[i] = (byte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0)
                break;
        }
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }
}
