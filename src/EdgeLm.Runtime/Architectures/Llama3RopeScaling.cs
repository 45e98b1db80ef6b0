namespace EdgeLm.Runtime.Architectures;

/// <summary>
/// Llama 3.1's RoPE frequency scaling. Converters store it as per-frequency divisors in the <c>rope_freqs</c> tensor:
/// high frequencies (wavelength below the original context / highFrequencyFactor) are kept, low frequencies
/// (wavelength above original context / lowFrequencyFactor) are slowed by <c>factor</c>, and the band between is
/// interpolated smoothly.
/// </summary>
public static class Llama3RopeScaling
{
    /// <summary>The divisor of each of the <paramref name="rotaryDimensions"/>/2 rotation frequencies.</summary>
    public static float[] FrequencyFactors(int rotaryDimensions, float frequencyBase, float factor = 8f, float lowFrequencyFactor = 1f,
        float highFrequencyFactor = 4f, int originalContextLength = 8192)
    {
        if (rotaryDimensions <= 0 || rotaryDimensions % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(rotaryDimensions), rotaryDimensions, "Must be positive and even.");
        if (!(highFrequencyFactor > lowFrequencyFactor))
            throw new ArgumentException("The high-frequency factor must exceed the low-frequency factor.", nameof(highFrequencyFactor));
        double lowWavelength = originalContextLength / (double)lowFrequencyFactor;
        double highWavelength = originalContextLength / (double)highFrequencyFactor;
        var factors = new float[rotaryDimensions / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            double frequency = 1.0 / Math.Pow(frequencyBase, 2.0 * i / rotaryDimensions);
            double wavelength = 2 * Math.PI / frequency;
            if (wavelength < highWavelength)
            {
                factors[i] = 1f;
            }
            else if (wavelength > lowWavelength)
            {
                factors[i] = factor;
            }
            else
            {
                double smooth = (originalContextLength / wavelength - lowFrequencyFactor) / (highFrequencyFactor - lowFrequencyFactor);
                factors[i] = (float)(1.0 / ((1 - smooth) / factor + smooth));
            }
        }
        return factors;
    }
}
