using Strata.Core;

namespace Strata.Planning.Placement;

/// <summary>What a placement policy may be tuned by: the solver limits of an exact policy (the heuristics ignore them).</summary>
/// <param name="SolverTimeLimitSeconds">Most seconds an exact solver may run.</param>
/// <param name="Sessions">Concurrent sessions an exact solver places for (null: from the load).</param>
/// <param name="SolverWorkers">Worker threads of an exact solver (1 is deterministic).</param>
public sealed record PlacementSettings(double SolverTimeLimitSeconds = 60, int? Sessions = null, int SolverWorkers = 1);

/// <summary>
/// The placement policies by name: the heuristics built in, and policies that live in their own assemblies (the MILP,
/// <c>Strata.Planning.Milp</c>, which brings OR-Tools' native solvers) once they are registered with <see cref="Register"/>.
/// A process that never registers them, a block server say, never loads them.
/// </summary>
public static class PlacementPolicies
{
    /// <summary>The name the exact policy registers under.</summary>
    public const string Milp = "milp";

    private static readonly string[] BuiltIn = ["petals", "cg-bp", "petals-cgbp-counts", "petals-cgbp-order"];
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, Func<PlacementSettings, IPlacementPolicy>> Registered = new(StringComparer.Ordinal);
    private static string[] _names = BuiltIn;

    /// <summary>Every name <see cref="Create(string, PlacementSettings)"/> accepts now: the built-in ones, then the registered ones in registration order.</summary>
    public static IReadOnlyList<string> Names => Volatile.Read(ref _names);

    /// <summary>Adds a policy under <paramref name="name"/>; registering the same name again replaces its factory (so registration may run more than once).</summary>
    /// <exception cref="ArgumentException">The name is empty or is one of the built-in policies.</exception>
    public static void Register(string name, Func<PlacementSettings, IPlacementPolicy> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        if (BuiltIn.Contains(name, StringComparer.Ordinal))
        {
            throw new ArgumentException($"'{name}' is a built-in placement policy and cannot be replaced.", nameof(name));
        }

        lock (Gate)
        {
            var added = Registered.TryAdd(name, factory);
            if (!added)
            {
                Registered[name] = factory;
                return;
            }

            Volatile.Write(ref _names, [.. _names, name]);
        }
    }

    /// <summary>A policy by name; <paramref name="milpTimeLimitSeconds"/> bounds the MILP's solve, <paramref name="milpSessions"/> fixes its session count (null: from the load), <paramref name="milpWorkers"/> its CP-SAT workers.</summary>
    /// <exception cref="StrataException">The name is unknown.</exception>
    public static IPlacementPolicy Create(string name, double milpTimeLimitSeconds = 60, int? milpSessions = null, int milpWorkers = 1) =>
        Create(name, new PlacementSettings(milpTimeLimitSeconds, milpSessions, milpWorkers));

    /// <summary>A policy by name, tuned by <paramref name="settings"/>.</summary>
    /// <exception cref="StrataException">The name is unknown.</exception>
    public static IPlacementPolicy Create(string name, PlacementSettings settings)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(settings);
        switch (name)
        {
            case "petals": return new PetalsPlacement();
            case "cg-bp": return new ConservativeGreedyPlacement();
            case "petals-cgbp-counts": return new PetalsPlacement(useConservativeCounts: true);
            case "petals-cgbp-order": return new PetalsPlacement(useConservativeOrder: true);
        }

        Func<PlacementSettings, IPlacementPolicy>? factory;
        lock (Gate)
        {
            Registered.TryGetValue(name, out factory);
        }

        if (factory is not null)
        {
            return factory(settings);
        }

        var hint = name == Milp ? " (the MILP lives in Strata.Planning.Milp: call MilpPlacement.Register() first)" : "";
        throw new StrataException($"Unknown placement policy '{name}'; expected one of {string.Join(", ", Names)}{hint}.");
    }
}
