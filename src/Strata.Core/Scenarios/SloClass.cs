using Strata.Core.Workload;

namespace Strata.Core.Scenarios;

/// <summary>A named class of requests and its absolute latency targets.</summary>
/// <param name="Id">The class name (<c>id</c>), unique among classes.</param>
/// <param name="Objective">The targets (<c>ttftSeconds</c>, <c>tbtSeconds</c>, <c>e2eSeconds</c>); at least one is set.</param>
public sealed record SloClass(string Id, ServiceLevelObjective Objective);
