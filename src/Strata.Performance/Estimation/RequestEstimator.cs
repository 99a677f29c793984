using Strata.Core;
using Strata.Performance.Memory;

namespace Strata.Performance.Estimation;

/// <summary>Predicts TTFT, time between tokens, end-to-end time and memory for a batch of identical requests.</summary>
/// <remarks>
/// The batch arrives at once on an idle deployment: one prefill step of every prompt, then <c>output - 1</c> decode
/// steps; step k attends to <c>prompt + k</c> tokens, so later tokens cost more where attention matters.
/// </remarks>
public static class RequestEstimator
{
    /// <summary>Estimates <paramref name="batch"/> requests of <paramref name="promptTokens"/> in and <paramref name="outputTokens"/> out.</summary>
    /// <exception cref="StrataException">A count is not positive.</exception>
    public static RequestEstimate Estimate(IPerformanceModel performance, MemoryModel memory, int promptTokens, int outputTokens, int batch = 1)
    {
        ArgumentNullException.ThrowIfNull(performance);
        ArgumentNullException.ThrowIfNull(memory);
        Positive(promptTokens, "prompt tokens");
        Positive(outputTokens, "output tokens");
        Positive(batch, "batch size");

        var ttft = performance.StepSeconds(BatchShape.Prefill(batch, promptTokens));
        var decodeSeconds = 0.0;
        double first = 0, last = 0;
        for (var k = 1; k < outputTokens; k++)
        {
            var step = performance.StepSeconds(BatchShape.Decode(batch, promptTokens + k));
            decodeSeconds += step;
            first = k == 1 ? step : first;
            last = step;
        }

        var tbt = outputTokens > 1 ? decodeSeconds / (outputTokens - 1) : 0;
        var e2e = ttft + decodeSeconds;
        var tokensPerRequest = promptTokens + outputTokens;
        return new RequestEstimate(
            ttft,
            tbt,
            e2e,
            first,
            last,
            memory.WeightsBytes,
            memory.WeightsBytesPerDevice,
            memory.KvBytesPerToken,
            memory.KvBytesPerToken * tokensPerRequest * batch,
            memory.UsableBytes,
            memory.Fits(batch, tokensPerRequest),
            memory.MaxBatch(tokensPerRequest),
            (double)batch * outputTokens / e2e);
    }

    private static void Positive(int value, string what)
    {
        if (value <= 0)
        {
            throw new StrataException($"The number of {what} is {value}; expected a positive integer.");
        }
    }
}
