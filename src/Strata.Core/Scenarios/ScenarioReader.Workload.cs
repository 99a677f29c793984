using YamlDotNet.RepresentationModel;

namespace Strata.Core.Scenarios;

/// <summary>The workload of a scenario: trace or synthetic arrivals and token-length distributions.</summary>
internal sealed partial class ScenarioReader
{
    private static readonly string[] WorkloadKeys =
        ["trace", "rateRequestsPerSecond", "durationSeconds", "requests", "arrivals", "burstiness", "promptTokens", "outputTokens"];
    private static readonly string[] LengthKeys = ["fixed", "distribution", "min", "max", "median", "p90", "fromTrace"];
    private static readonly Dictionary<string, ArrivalProcess> Arrivals = new()
    {
        ["poisson"] = ArrivalProcess.Poisson,
        ["gamma"] = ArrivalProcess.Gamma,
    };

    // Value: whether the distribution is uniform (else lognormal).
    private static readonly Dictionary<string, bool> Distributions = new()
    {
        ["uniform"] = true,
        ["lognormal"] = false,
    };

    private WorkloadSpec? ReadWorkload(YamlMap top)
    {
        if (top.Map("workload", WorkloadKeys) is not { } workload)
        {
            return null;
        }

        var rate = workload.Number("rateRequestsPerSecond", value => value > 0, "a number of requests per second > 0");
        var duration = workload.Number("durationSeconds", value => value > 0, "a number of seconds > 0");
        var requests = workload.Integer("requests", 1);
        if (duration is not null && requests is not null)
        {
            throw Error(workload.Get("requests")!, "workload has both 'durationSeconds' and 'requests'; expected only one of them to end the workload.");
        }

        if (workload.Get("trace") is { } traceNode)
        {
            workload.Forbid(
                ["arrivals", "burstiness", "promptTokens", "outputTokens"],
                "workload.trace is set, which supplies arrivals and lengths; expected it only in a synthetic workload (without 'trace')");
            return new WorkloadSpec
            {
                Trace = ReadTrace(traceNode, workload.Field("trace")),
                RateRequestsPerSecond = rate,
                DurationSeconds = duration,
                Requests = requests,
            };
        }

        const string Synthetic = "a synthetic workload (no 'trace')";
        workload.Require("rateRequestsPerSecond", $"a rate > 0 in {Synthetic}, or a 'trace' to replay");
        if (duration is null && requests is null)
        {
            throw Error(workload.Anchor, $"workload has neither 'durationSeconds' nor 'requests'; expected one of them to end {Synthetic}.");
        }

        var arrivals = workload.Choice("arrivals", Arrivals) ?? ArrivalProcess.Poisson;
        var burstiness = workload.Number("burstiness", value => value > 0, "a squared coefficient of variation > 0");
        if (burstiness is not null && arrivals != ArrivalProcess.Gamma)
        {
            throw Error(workload.Get("burstiness")!, $"workload.burstiness is {YamlValues.Describe(workload.Get("burstiness")!)}, but arrivals are Poisson; expected 'arrivals: gamma' with it, or no burstiness.");
        }

        return new WorkloadSpec
        {
            RateRequestsPerSecond = rate,
            DurationSeconds = duration,
            Requests = requests,
            Arrivals = arrivals,
            Burstiness = burstiness ?? 1.0,
            PromptTokens = ReadLengths(workload.Require("promptTokens", $"a length distribution in {Synthetic}, such as {{fixed: 512}}"), workload.Field("promptTokens")),
            OutputTokens = ReadLengths(workload.Require("outputTokens", $"a length distribution in {Synthetic}, such as {{fixed: 128}}"), workload.Field("outputTokens")),
        };
    }

    private TraceSource ReadTrace(YamlNode node, string field)
    {
        var text = YamlValues.Text(node)?.Trim();
        return text?.ToLowerInvariant() switch
        {
            "conv" => new TraceSource(TraceKind.AzureConversation),
            "code" => new TraceSource(TraceKind.AzureCode),
            null or "" => throw Invalid(node, field, "conv, code, or the path of a trace CSV file"),
            _ => new TraceSource(TraceKind.File, ResolveFile(node, field, "a trace CSV file (or conv, code)")),
        };
    }

    private LengthDistributionSpec ReadLengths(YamlNode node, string field)
    {
        if (node is YamlScalarNode)
        {
            return YamlValues.TryInteger(node, 1, out var tokens)
                ? new FixedLengthSpec(tokens)
                : throw Invalid(node, field, "a token count >= 1 or a distribution such as {distribution: lognormal, median: 1020, p90: 2734}");
        }

        var spec = YamlMap.Of(this, node, field, LengthKeys);
        if (spec.Has("fixed"))
        {
            spec.Forbid(LengthKeys.Where(key => key != "fixed"), $"{field}.fixed is set; expected no other keys beside it");
            return new FixedLengthSpec(spec.Integer("fixed", 1)!.Value);
        }

        if (spec.Get("fromTrace") is { } traceNode)
        {
            spec.Forbid(LengthKeys.Where(key => key != "fromTrace"), $"{field}.fromTrace is set; expected no other keys beside it");
            return new TraceLengthSpec(ReadTrace(traceNode, spec.Field("fromTrace")));
        }

        spec.Require("distribution", "'fixed', 'fromTrace', or 'distribution' (uniform or lognormal)");
        if (spec.Choice("distribution", Distributions) == true)
        {
            spec.Forbid(["median", "p90"], $"{field} is uniform; expected only 'min' and 'max'");
            spec.Require("min", "the smallest token count (an integer >= 1) of a uniform distribution");
            spec.Require("max", "the largest token count of a uniform distribution");
            var min = spec.Integer("min", 1)!.Value;
            var max = spec.Integer("max", min)!.Value;
            return new UniformLengthSpec(min, max);
        }

        spec.Forbid(["min", "max"], $"{field} is lognormal; expected only 'median' and 'p90'");
        spec.Require("median", "the median token count (> 0) of a lognormal distribution");
        spec.Require("p90", "the 90th-percentile token count of a lognormal distribution");
        var median = spec.Number("median", value => value > 0, "a token count > 0")!.Value;
        var p90 = spec.Number("p90", value => value > median, $"a token count > the median ({YamlValues.Describe(spec.Get("median")!)})")!.Value;
        return new LognormalLengthSpec(median, p90);
    }
}
