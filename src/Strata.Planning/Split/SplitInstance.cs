namespace Strata.Planning.Split;

/// <summary>One client-server split problem: per-layer costs, a latency SLA and an optional client memory budget.</summary>
/// <remarks>
/// The request starts on the client. A layer on the client costs <c>c_e</c>, plus <c>d</c> when the previous layer ran
/// on the server; a layer on the server costs <c>c_s</c>, plus <c>u</c> when the previous layer ran on the client or it
/// is the first layer; when the last layer runs on the server, <see cref="FinalDownloadSeconds"/> is added. A plan is
/// feasible when that latency is at most <see cref="SlaSeconds"/> and the client layers' memory fits
/// <see cref="ClientMemoryBudgetBytes"/>; planners minimise the server load of the server layers.
/// <see cref="Evaluate"/> is the one implementation of this cost model. See docs/split.md.
/// </remarks>
public sealed record SplitInstance
{
    private readonly SplitLayer[] _layers;

    /// <summary>Creates an instance and checks every number is finite and in range.</summary>
    /// <exception cref="ArgumentException">No layers, or a value is negative or not finite.</exception>
    public SplitInstance(IReadOnlyList<SplitLayer> layers, double slaSeconds, double finalDownloadSeconds = 0, double? clientMemoryBudgetBytes = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0)
        {
            throw new ArgumentException("A split instance needs at least one layer.", nameof(layers));
        }

        NonNegative(slaSeconds, nameof(slaSeconds));
        NonNegative(finalDownloadSeconds, nameof(finalDownloadSeconds));
        if (clientMemoryBudgetBytes is { } budget)
        {
            NonNegative(budget, nameof(clientMemoryBudgetBytes));
        }

        _layers = [.. layers];
        var totalMemoryBytes = 0.0;
        for (var i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            NonNegative(layer.ClientSeconds, $"layers[{i}].ClientSeconds");
            NonNegative(layer.ServerSeconds, $"layers[{i}].ServerSeconds");
            NonNegative(layer.UploadSeconds, $"layers[{i}].UploadSeconds");
            NonNegative(layer.DownloadSeconds, $"layers[{i}].DownloadSeconds");
            NonNegative(layer.ServerLoad, $"layers[{i}].ServerLoad");
            NonNegative(layer.ClientMemoryBytes, $"layers[{i}].ClientMemoryBytes");
            totalMemoryBytes += layer.ClientMemoryBytes;
        }

        SlaSeconds = slaSeconds;
        FinalDownloadSeconds = finalDownloadSeconds;
        ClientMemoryBudgetBytes = clientMemoryBudgetBytes;
        IsMemoryConstrained = clientMemoryBudgetBytes is { } limit && totalMemoryBytes > limit;
    }

    /// <summary>The latency a plan may take at most, in seconds (>= 0).</summary>
    public double SlaSeconds { get; }

    /// <summary>Time to bring the output back to the client when the last layer runs on the server (f), in seconds.</summary>
    public double FinalDownloadSeconds { get; }

    /// <summary>Most client memory the client layers may take together; <see langword="null"/> for no limit.</summary>
    public double? ClientMemoryBudgetBytes { get; }

    /// <summary>The layers, in model order.</summary>
    public IReadOnlyList<SplitLayer> Layers => _layers;

    /// <summary>Number of layers.</summary>
    public int LayerCount => _layers.Length;

    /// <summary>Whether the memory budget can bind: it is set and all layers together exceed it.</summary>
    internal bool IsMemoryConstrained { get; }

    /// <summary>The layers, for planners in this assembly (never mutated).</summary>
    internal ReadOnlySpan<SplitLayer> LayerSpan => _layers;

    /// <summary>The budget as a number: +infinity when there is none.</summary>
    internal double MemoryLimitBytes => ClientMemoryBudgetBytes ?? double.PositiveInfinity;

    /// <summary>Computes latency, server load and client memory of <paramref name="assignment"/> and whether it is feasible.</summary>
    /// <remarks>The single source of truth of the cost model; every planner's plan comes from here. O(L).</remarks>
    /// <exception cref="ArgumentException">The assignment does not have one side per layer.</exception>
    public SplitPlan Evaluate(IReadOnlyList<SplitSide> assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (assignment.Count != _layers.Length)
        {
            throw new ArgumentException($"The assignment has {assignment.Count} sides; the instance has {_layers.Length} layers.", nameof(assignment));
        }

        var copy = new SplitSide[assignment.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = assignment[i];
        }

        return EvaluateOwned(copy);
    }

    /// <summary>Evaluates an assignment array the caller hands over (it must not change it afterwards).</summary>
    internal SplitPlan EvaluateOwned(SplitSide[] assignment)
    {
        var latencySeconds = LatencySeconds(assignment);
        var serverLoad = 0.0;
        var clientMemoryBytes = 0.0;
        for (var i = 0; i < _layers.Length; i++)
        {
            if (assignment[i] == SplitSide.Server)
            {
                serverLoad += _layers[i].ServerLoad;
            }
            else
            {
                clientMemoryBytes += _layers[i].ClientMemoryBytes;
            }
        }

        return new SplitPlan(assignment, latencySeconds, serverLoad, clientMemoryBytes, latencySeconds <= SlaSeconds, clientMemoryBytes <= MemoryLimitBytes);
    }

    /// <summary>Latency of an assignment, summed in layer order exactly as <see cref="Evaluate"/> does.</summary>
    internal double LatencySeconds(ReadOnlySpan<SplitSide> assignment)
    {
        var latencySeconds = 0.0;
        var previous = SplitSide.Client;
        for (var i = 0; i < _layers.Length; i++)
        {
            latencySeconds += _layers[i].StepSeconds(assignment[i], previous);
            previous = assignment[i];
        }

        return previous == SplitSide.Server ? latencySeconds + FinalDownloadSeconds : latencySeconds;
    }

    /// <summary>Client memory of an assignment's client layers, summed in layer order.</summary>
    internal double ClientMemoryBytes(ReadOnlySpan<SplitSide> assignment)
    {
        var memoryBytes = 0.0;
        for (var i = 0; i < _layers.Length; i++)
        {
            if (assignment[i] == SplitSide.Client)
            {
                memoryBytes += _layers[i].ClientMemoryBytes;
            }
        }

        return memoryBytes;
    }

    private static void NonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, "Expected a finite number >= 0.");
        }
    }
}
