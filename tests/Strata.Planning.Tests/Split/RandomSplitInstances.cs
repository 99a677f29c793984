using Strata.Planning.Split;

namespace Strata.Planning.Tests.Split;

/// <summary>Seeded random split instances of several kinds, for property tests against exhaustive search.</summary>
internal static class RandomSplitInstances
{
    /// <summary>The kinds of instance <see cref="Create"/> makes.</summary>
    public enum Kind
    {
        /// <summary>Random real costs, SLA anywhere between very tight and loose.</summary>
        Uniform,
        /// <summary>Small integer costs: exact sums and many ties.</summary>
        Integer,
        /// <summary>Alternating cheap and dear layers with cheap transfers: the optimum switches sides back and forth.</summary>
        Alternating,
        /// <summary>Random costs and a client memory budget that binds.</summary>
        MemoryConstrained,
        /// <summary>An SLA below the fastest possible latency.</summary>
        Infeasible,
    }

    public static readonly Kind[] Kinds = Enum.GetValues<Kind>();

    /// <summary>An instance of <paramref name="kind"/> with <paramref name="layerCount"/> layers from <paramref name="random"/>.</summary>
    public static SplitInstance Create(Random random, int layerCount, Kind kind)
    {
        var layers = new SplitLayer[layerCount];
        for (var l = 0; l < layerCount; l++)
        {
            layers[l] = kind switch
            {
                Kind.Integer => new SplitLayer(random.Next(0, 6), random.Next(0, 3), random.Next(0, 4), random.Next(0, 4), random.Next(0, 6), random.Next(0, 5)),
                Kind.Alternating => l % 2 == 0
                    ? new SplitLayer(0.01 + (0.05 * random.NextDouble()), 0.2, 0.02 * random.NextDouble(), 0.02 * random.NextDouble(), 1 + random.NextDouble(), random.NextDouble())
                    : new SplitLayer(2 + random.NextDouble(), 0.05 * random.NextDouble(), 0.02 * random.NextDouble(), 0.02 * random.NextDouble(), 0.1 * random.NextDouble(), random.NextDouble()),
                _ => new SplitLayer(random.NextDouble(), 0.3 * random.NextDouble(), 0.5 * random.NextDouble(), 0.5 * random.NextDouble(), random.NextDouble(), random.NextDouble()),
            };
        }

        var finalDownloadSeconds = kind == Kind.Integer ? random.Next(0, 3) : 0.3 * random.NextDouble();
        var probe = new SplitInstance(layers, 1, finalDownloadSeconds);
        var allServerSeconds = new AllServerSplitPlanner().Plan(probe).LatencySeconds;
        var allClientSeconds = new AllClientSplitPlanner().Plan(probe).LatencySeconds;
        var fastestSeconds = new ParetoDpSplitPlanner().Plan(new SplitInstance(layers, 0, finalDownloadSeconds)).LatencySeconds;
        var slowestSeconds = Math.Max(allServerSeconds, allClientSeconds);
        var slaSeconds = kind switch
        {
            Kind.Infeasible => fastestSeconds * random.NextDouble() * 0.95,
            Kind.Integer => Math.Round(fastestSeconds + ((slowestSeconds - fastestSeconds) * random.NextDouble())),
            _ => fastestSeconds + ((slowestSeconds - fastestSeconds) * random.NextDouble() * random.NextDouble()),
        };

        double? budgetBytes = null;
        var totalMemoryBytes = layers.Sum(layer => layer.ClientMemoryBytes);
        if (kind == Kind.MemoryConstrained || (kind != Kind.Infeasible && random.Next(4) == 0))
        {
            budgetBytes = kind == Kind.Integer ? random.Next(0, (int)totalMemoryBytes + 1) : totalMemoryBytes * random.NextDouble();
        }
        else if (kind == Kind.Infeasible && random.Next(2) == 0)
        {
            budgetBytes = totalMemoryBytes * random.NextDouble();
        }

        return new SplitInstance(layers, Math.Max(0, slaSeconds), finalDownloadSeconds, budgetBytes);
    }
}
