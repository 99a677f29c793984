using Strata.Core;
using Strata.Core.Scenarios;
using Strata.Core.Identity;
using Strata.Core.Workload;

namespace Strata.Simulation.Workloads;

/// <summary>Turns <see cref="WorkloadOptions"/> into the requests of a run, in arrival order.</summary>
/// <remarks>
/// A trace without <see cref="WorkloadOptions.Arrivals"/> keeps its own arrival pattern and lengths. Given a rate and a
/// window, the run takes exactly <c>round(rate x window)</c> rows from the start of the trace (repeating it, each copy
/// starting one mean gap after the last) and stretches their arrival pattern to fill the window, so the offered rate is
/// the one asked for even where the trace's own rate drifts over time. Given only a rate, every arrival time is
/// multiplied by <c>trace rate / target rate</c>. With <see cref="WorkloadOptions.Arrivals"/> set, a trace only lends its (prompt, output)
/// pairs, drawn jointly at random, or with <see cref="WorkloadOptions.IndependentLengths"/> its prompt and output columns drawn
/// independently (as SplitwiseSim's <c>generate_trace.py</c> builds its traces). Synthetic arrivals draw gaps (exponential or Gamma) and lengths from a seeded
/// <see cref="Random"/>; the same options give the same requests, bit for bit.
/// </remarks>
public static class WorkloadBuilder
{
    /// <summary>Builds the requests.</summary>
    public static InferenceRequest[] Build(WorkloadOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Trace is { } name && options.Arrivals is null ? FromTrace(Trace.Load(name), options) : Synthetic(options);
    }

    private static InferenceRequest[] FromTrace(Trace trace, WorkloadOptions options)
    {
        var rows = trace.Rows;
        var first = rows[0].ArrivalSeconds;
        var span = rows[^1].ArrivalSeconds - first;
        var period = span + (rows.Count > 1 ? span / (rows.Count - 1) : 1.0);
        double Arrival(long index) => (index / rows.Count * period) + rows[(int)(index % rows.Count)].ArrivalSeconds - first;

        if (options.RateRequestsPerSecond is { } rate && options.DurationSeconds is { } window)
        {
            var count = (long)Math.Round(rate * window);
            if (options.Requests is { } most)
            {
                count = Math.Min(count, most);
            }

            // Row `count` would open the next window: mapping it to `window` keeps the mean gap exactly 1 / rate.
            var stretch = window / Arrival((long)Math.Round(rate * window));
            var exact = new InferenceRequest[count];
            for (var i = 0L; i < count; i++)
            {
                var row = rows[(int)(i % rows.Count)];
                exact[i] = new InferenceRequest(new RequestId((int)i), Arrival(i) * stretch, row.PromptTokens, row.OutputTokens);
            }

            return exact;
        }

        var scale = options.RateRequestsPerSecond is { } target && trace.RateRequestsPerSecond > 0 ? trace.RateRequestsPerSecond / target : 1.0;
        var duration = options.DurationSeconds ?? (options.Requests is null ? span * scale : double.PositiveInfinity);
        var limit = options.Requests ?? int.MaxValue;
        var requests = new List<InferenceRequest>();
        for (var i = 0L; requests.Count < limit; i++)
        {
            var arrival = Arrival(i) * scale;
            if (arrival > duration)
            {
                break;
            }

            var row = rows[(int)(i % rows.Count)];
            requests.Add(new InferenceRequest(new RequestId(requests.Count), arrival, row.PromptTokens, row.OutputTokens));
        }

        return [.. requests];
    }

    private static InferenceRequest[] Synthetic(WorkloadOptions options)
    {
        var random = new Random(options.Seed);
        var source = new Lazy<Trace>(() => Trace.Load(options.Trace ?? "conv"));
        var pairs = options.PromptTokens is null && options.OutputTokens is null && !options.IndependentLengths ? source.Value.Rows : null;
        var prompts = options.PromptTokens ?? new LengthDistribution.Empirical(source.Value.Rows.Select(r => r.PromptTokens).ToArray(), source.Value.Name);
        var outputs = options.OutputTokens ?? new LengthDistribution.Empirical(source.Value.Rows.Select(r => r.OutputTokens).ToArray(), source.Value.Name);
        var rate = options.RateRequestsPerSecond ?? source.Value.RateRequestsPerSecond;
        if (!(rate > 0))
        {
            throw new StrataException($"Trace '{source.Value.Name}' has no mean rate (one row); give --rate in requests per second.");
        }

        var duration = options.DurationSeconds ?? double.PositiveInfinity;
        var limit = options.Requests ?? int.MaxValue;
        var requests = new List<InferenceRequest>();
        var time = 0.0;
        while (requests.Count < limit)
        {
            time += options.Arrivals == ArrivalProcess.Gamma ? GammaGap(random, rate, options.Burstiness) : Exponential(random, rate);
            if (time > duration)
            {
                break;
            }

            if (pairs is not null)
            {
                // Joint draw keeps the trace's correlation between prompt and output lengths.
                var row = pairs[random.Next(pairs.Count)];
                requests.Add(new InferenceRequest(new RequestId(requests.Count), time, row.PromptTokens, row.OutputTokens));
            }
            else
            {
                requests.Add(new InferenceRequest(new RequestId(requests.Count), time, prompts.Sample(random), outputs.Sample(random)));
            }
        }

        return requests.ToArray();
    }

    private static double Exponential(Random random, double rate) => -Math.Log(1.0 - random.NextDouble()) / rate;

    // Gamma with mean 1/rate and squared coefficient of variation cv2: shape k = 1/cv2, scale = cv2/rate.
    private static double GammaGap(Random random, double rate, double cv2)
    {
        var shape = 1.0 / cv2;
        return SampleGamma(random, shape) * cv2 / rate;
    }

    // Marsaglia and Tsang (2000); shape < 1 boosted by U^(1/shape).
    private static double SampleGamma(Random random, double shape)
    {
        if (shape < 1)
        {
            return SampleGamma(random, shape + 1) * Math.Pow(1.0 - random.NextDouble(), 1.0 / shape);
        }

        var d = shape - 1.0 / 3.0;
        var c = 1.0 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                var u1 = 1.0 - random.NextDouble();
                var u2 = random.NextDouble();
                x = Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                v = 1 + c * x;
            }
            while (v <= 0);

            v = v * v * v;
            var u = 1.0 - random.NextDouble();
            if (Math.Log(u) < 0.5 * x * x + d - d * v + d * Math.Log(v))
            {
                return d * v;
            }
        }
    }
}
