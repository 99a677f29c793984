namespace Strata.Runtime.Engine;

/// <summary>How a model stretches its rotary frequencies past its training context (<c>rope_scaling</c> of <c>config.json</c>).</summary>
/// <param name="Type"><c>linear</c> (every frequency divided by the factor) or <c>llama3</c> (Llama 3.1's piecewise rule).</param>
/// <param name="Factor">Stretch factor (<c>factor</c>), above 0.</param>
/// <param name="LowFrequencyFactor"><c>low_freq_factor</c> (llama3 only; default 1).</param>
/// <param name="HighFrequencyFactor"><c>high_freq_factor</c> (llama3 only; default 4).</param>
/// <param name="OriginalMaxPositionEmbeddings"><c>original_max_position_embeddings</c> (llama3 only; default 8192).</param>
public sealed record RopeScaling(string Type, double Factor, double LowFrequencyFactor = 1, double HighFrequencyFactor = 4, int OriginalMaxPositionEmbeddings = 8192)
{
    /// <summary>The scaled inverse frequency of one rotation pair, as Hugging Face's <c>_compute_*_parameters</c> compute it.</summary>
    public double Apply(double inverseFrequency)
    {
        if (Type == "linear")
        {
            return inverseFrequency / Factor;
        }

        // llama3: high frequencies (short wavelengths) kept, low ones divided by the factor, a smooth blend between.
        var lowWavelength = OriginalMaxPositionEmbeddings / LowFrequencyFactor;
        var highWavelength = OriginalMaxPositionEmbeddings / HighFrequencyFactor;
        var wavelength = 2 * Math.PI / inverseFrequency;
        if (wavelength < highWavelength)
        {
            return inverseFrequency;
        }

        if (wavelength > lowWavelength)
        {
            return inverseFrequency / Factor;
        }

        var smooth = (OriginalMaxPositionEmbeddings / wavelength - LowFrequencyFactor) / (HighFrequencyFactor - LowFrequencyFactor);
        return (1 - smooth) * inverseFrequency / Factor + smooth * inverseFrequency;
    }
}
