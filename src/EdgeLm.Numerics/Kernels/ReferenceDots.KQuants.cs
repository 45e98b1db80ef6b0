using EdgeLm.Numerics.Quants;

namespace EdgeLm.Numerics.Kernels;

/// <summary>
/// k-quant weights against Q8_K activations. Per superblock: an exact integer sum of scale * (code x activation) over
/// the sub-blocks, the min terms from the activation group sums (BSums), then
/// <c>sum += (dy * d) * isum - (dy * dmin) * msum</c> in float.
/// </summary>
internal static unsafe partial class ReferenceDots
{
    public static float Q2_K(byte* w, byte* a, int columns)
    {
        var x = (BlockQ2_K*)w;
        var y = (BlockQ8_K*)a;
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            int msum = 0;
            for (int s = 0; s < 16; s++)
                msum += y[i].BSums[s] * (x[i].Scales[s] >> 4);
            int isum = 0;
            for (int h = 0; h < 2; h++)
            {
                for (int k = 0; k < 4; k++)
                {
                    for (int half = 0; half < 2; half++)
                    {
                        int part = 0;
                        for (int l = 16 * half; l < 16 * half + 16; l++)
                            part += ((x[i].Qs[32 * h + l] >> (2 * k)) & 3) * y[i].Qs[128 * h + 32 * k + l];
                        isum += (x[i].Scales[8 * h + 2 * k + half] & 0xF) * part;
                    }
                }
            }
            float dall = y[i].D * HalfConvert.ToSingle(x[i].D);
            float dmin = y[i].D * HalfConvert.ToSingle(x[i].DMin);
            sum += dall * isum - dmin * msum;
        }
        return sum;
    }

    public static float Q3_K(byte* w, byte* a, int columns)
    {
        var x = (BlockQ3_K*)w;
        var y = (BlockQ8_K*)a;
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            int isum = 0;
            for (int h = 0; h < 2; h++)
            {
                for (int k = 0; k < 4; k++)
                {
                    int bit = 1 << (4 * h + k);
                    for (int half = 0; half < 2; half++)
                    {
                        int part = 0;
                        for (int l = 16 * half; l < 16 * half + 16; l++)
                        {
                            int q = ((x[i].Qs[32 * h + l] >> (2 * k)) & 3) - ((x[i].HMask[l] & bit) != 0 ? 0 : 4);
                            part += q * y[i].Qs[128 * h + 32 * k + l];
                        }
                        isum += KScales.Q3Scale(8 * h + 2 * k + half, x[i].Scales) * part;
                    }
                }
            }
            sum += (y[i].D * HalfConvert.ToSingle(x[i].D)) * isum;
        }
        return sum;
    }

    public static float Q4_K(byte* w, byte* a, int columns)
    {
        var x = (BlockQ4_K*)w;
        var y = (BlockQ8_K*)a;
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            int isum = 0, msum = 0;
            for (int c = 0; c < 4; c++)
            {
                KScales.ScaleMin(2 * c, x[i].Scales, out int sc1, out int m1);
                KScales.ScaleMin(2 * c + 1, x[i].Scales, out int sc2, out int m2);
                int p1 = 0, p2 = 0;
                for (int l = 0; l < 32; l++)
                {
                    byte q = x[i].Qs[32 * c + l];
                    p1 += (q & 0xF) * y[i].Qs[64 * c + l];
                    p2 += (q >> 4) * y[i].Qs[64 * c + 32 + l];
                }
                isum += sc1 * p1 + sc2 * p2;
                msum += m1 * (y[i].BSums[4 * c] + y[i].BSums[4 * c + 1]) + m2 * (y[i].BSums[4 * c + 2] + y[i].BSums[4 * c + 3]);
            }
            float d = y[i].D * HalfConvert.ToSingle(x[i].D);
            float dmin = y[i].D * HalfConvert.ToSingle(x[i].DMin);
            sum += d * isum - dmin * msum;
        }
        return sum;
    }

    public static float Q5_K(byte* w, byte* a, int columns)
    {
        var x = (BlockQ5_K*)w;
        var y = (BlockQ8_K*)a;
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            int isum = 0, msum = 0;
            for (int c = 0; c < 4; c++)
            {
                KScales.ScaleMin(2 * c, x[i].Scales, out int sc1, out int m1);
                KScales.ScaleMin(2 * c + 1, x[i].Scales, out int sc2, out int m2);
                int p1 = 0, p2 = 0;
                for (int l = 0; l < 32; l++)
                {
                    byte q = x[i].Qs[32 * c + l];
                    int h1 = ((x[i].Qh[l] >> (2 * c)) & 1) << 4;
                    int h2 = ((x[i].Qh[l] >> (2 * c + 1)) & 1) << 4;
                    p1 += ((q & 0xF) + h1) * y[i].Qs[64 * c + l];
                    p2 += ((q >> 4) + h2) * y[i].Qs[64 * c + 32 + l];
                }
                isum += sc1 * p1 + sc2 * p2;
                msum += m1 * (y[i].BSums[4 * c] + y[i].BSums[4 * c + 1]) + m2 * (y[i].BSums[4 * c + 2] + y[i].BSums[4 * c + 3]);
            }
            float d = y[i].D * HalfConvert.ToSingle(x[i].D);
            float dmin = y[i].D * HalfConvert.ToSingle(x[i].DMin);
            sum += d * isum - dmin * msum;
        }
        return sum;
    }

    public static float Q6_K(byte* w, byte* a, int columns)
    {
        var x = (BlockQ6_K*)w;
        var y = (BlockQ8_K*)a;
        float sum = 0;
        for (int i = 0; i < columns / 256; i++)
        {
            int isum = 0;
            for (int h = 0; h < 2; h++)
            {
                for (int r = 0; r < 4; r++)
                {
                    for (int half = 0; half < 2; half++)
                    {
                        int part = 0;
                        for (int l = 16 * half; l < 16 * half + 16; l++)
                            part += BlockQ6_K.Code(x + i, h, r, l) * y[i].Qs[128 * h + 32 * r + l];
                        isum += x[i].Scales[8 * h + 2 * r + half] * part;
                    }
                }
            }
            sum += (y[i].D * HalfConvert.ToSingle(x[i].D)) * isum;
        }
        return sum;
    }
}
