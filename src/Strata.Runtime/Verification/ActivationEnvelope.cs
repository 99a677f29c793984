using Strata.Runtime.Engine;
using Strata.Runtime.Sampling;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Verification;

/// <summary>
/// The range of per-token RMS a true hidden state can have at each block boundary of a model: boundary <c>b</c> is the
/// input of block <c>b</c> (boundary 0 the embeddings, boundary <c>layers</c> the last block's output). A reply outside it
/// (or all zeros, or non-finite) cannot have come from running the blocks, whoever sent it.
/// </summary>
/// <remarks>
/// Profiled envelopes are recorded by running the model itself on a fixed calibration sequence and widening the observed
/// range by <see cref="DefaultMargin"/> each way. They catch garbage at the wrong scale (zeros, huge values, random values
/// of the wrong magnitude); a reply at the right scale (an echo of the input, a small perturbation) passes, and only a
/// replica spot check can catch it (see docs/security.md).
/// </remarks>
public sealed class ActivationEnvelope
{
    /// <summary>Factor by which a profiled range is widened each way (the RMS of unseen prompts varies; this keeps honest replies inside). Default 16.</summary>
    public const double DefaultMargin = 16;

    /// <summary>Lowest RMS of the generic envelope: no real hidden state is this close to all-zero.</summary>
    public const double GenericMinRms = 1e-6;

    /// <summary>Highest RMS of the generic envelope: far above any activation of a working fp32 model.</summary>
    public const double GenericMaxRms = 1e6;

    /// <summary>Tokens of the calibration sequence of <see cref="Profile"/>.</summary>
    public const int CalibrationTokens = 48;

    private readonly double[] _minRms;
    private readonly double[] _maxRms;

    /// <summary>Creates an envelope from bounds per boundary, <c>layers + 1</c> each.</summary>
    public ActivationEnvelope(IReadOnlyList<double> minRms, IReadOnlyList<double> maxRms, string source)
    {
        ArgumentNullException.ThrowIfNull(minRms);
        ArgumentNullException.ThrowIfNull(maxRms);
        if (minRms.Count != maxRms.Count || minRms.Count < 2)
        {
            throw new ArgumentException($"An envelope needs the same number (layers + 1, at least 2) of lower and upper bounds; got {minRms.Count} and {maxRms.Count}.", nameof(maxRms));
        }

        for (var b = 0; b < minRms.Count; b++)
        {
            if (!(minRms[b] > 0) || !(maxRms[b] >= minRms[b]) || double.IsInfinity(maxRms[b]))
            {
                throw new ArgumentException($"Boundary {b}: bounds [{minRms[b]}, {maxRms[b]}] must satisfy 0 < min <= max < infinity.", nameof(minRms));
            }
        }

        _minRms = [.. minRms];
        _maxRms = [.. maxRms];
        Source = source;
    }

    /// <summary>Blocks of the model.</summary>
    public int LayerCount => _minRms.Length - 1;

    /// <summary>How the bounds were obtained ("generic", or "profiled on N tokens").</summary>
    public string Source { get; }

    /// <summary>Lowest RMS a token may have at boundary <paramref name="boundary"/>.</summary>
    public double MinRms(int boundary) => _minRms[boundary];

    /// <summary>Highest RMS a token may have at boundary <paramref name="boundary"/>.</summary>
    public double MaxRms(int boundary) => _maxRms[boundary];

    /// <summary>The model-independent envelope: finite, not (near) all-zero, RMS at most <see cref="GenericMaxRms"/>.</summary>
    public static ActivationEnvelope Generic(int layerCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        return new ActivationEnvelope(Enumerable.Repeat(GenericMinRms, layerCount + 1).ToArray(), Enumerable.Repeat(GenericMaxRms, layerCount + 1).ToArray(), "generic");
    }

    /// <summary>
    /// Why <paramref name="hidden"/>, <c>(tokens, width)</c>, cannot be the output of blocks ending before
    /// <paramref name="endBlock"/>; null when it passes.
    /// </summary>
    public string? Explain(ReadOnlySpan<float> hidden, int tokens, int width, int endBlock)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(endBlock);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(endBlock, LayerCount);
        return HiddenStateCheck.Explain(hidden, tokens, width, _minRms[endBlock], _maxRms[endBlock]);
    }

    /// <summary>
    /// Records the envelope of a model by running it on a fixed, seeded calibration sequence (BOS when the model has
    /// one, then <see cref="CalibrationTokens"/> pseudo-random token ids), one block at a time, and widening each
    /// boundary's observed per-token RMS range by <paramref name="margin"/> each way.
    /// </summary>
    /// <param name="head">A model holding the embedding (its blocks are not used).</param>
    /// <param name="loadBlock">Loads a model holding block <c>b</c> (called once per block, in order; the result may be dropped after use).</param>
    /// <param name="margin">Widening factor, at least 1.</param>
    public static ActivationEnvelope Profile(LlamaModel head, Func<int, LlamaModel> loadBlock, double margin = DefaultMargin)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(loadBlock);
        ArgumentOutOfRangeException.ThrowIfLessThan(margin, 1.0);
        var config = head.Config;
        var tokens = CalibrationSequence(config);
        var width = config.HiddenSize;
        var hidden = head.Embed(tokens); // (tokens, hidden)
        var min = new double[config.LayerCount + 1];
        var max = new double[config.LayerCount + 1];
        Observe(hidden, tokens.Length, width, out min[0], out max[0]);
        for (var b = 0; b < config.LayerCount; b++)
        {
            var model = loadBlock(b);
            model.ForwardBlocks(model.CreateSession(), b, 1, hidden, tokens.Length);
            Observe(hidden, tokens.Length, width, out min[b + 1], out max[b + 1]);
        }

        return new ActivationEnvelope(
            [.. min.Select(m => Math.Max(m / margin, double.Epsilon))],
            [.. max.Select(m => Math.Min(m * margin, double.MaxValue))],
            $"profiled on {tokens.Length} tokens, margin {margin}");
    }

    /// <summary>Profiles the model in a folder (see <see cref="Profile"/>), loading one block at a time so that at most one block's weights are held.</summary>
    public static ActivationEnvelope ProfileFolder(string modelDirectory, LlamaModel head, double margin = DefaultMargin)
    {
        ArgumentNullException.ThrowIfNull(head);
        return Profile(head, b => new LlamaModel(head.Config, LlamaWeightsLoader.Load(modelDirectory, head.Config, b, 1, includeEmbeddingAndHead: false)), margin);
    }

    private static int[] CalibrationSequence(LlamaConfig config)
    {
        var random = new DeterministicRandom(DeterministicRandom.DeriveSeed(0, "activation-envelope"));
        var sequence = new List<int>(CalibrationTokens + 1);
        if (config.BosTokenId is { } bos && bos >= 0 && bos < config.VocabularySize)
        {
            sequence.Add(bos);
        }

        for (var i = 0; i < CalibrationTokens; i++)
        {
            sequence.Add((int)(random.NextUInt64() % (ulong)config.VocabularySize));
        }

        return [.. sequence];
    }

    private static void Observe(ReadOnlySpan<float> hidden, int tokens, int width, out double min, out double max)
    {
        min = double.PositiveInfinity;
        max = 0;
        for (var t = 0; t < tokens; t++)
        {
            var rms = HiddenStateCheck.Rms(hidden.Slice(t * width, width));
            min = Math.Min(min, rms);
            max = Math.Max(max, rms);
        }
    }
}
