using Strata.Core.Identity;

namespace Strata.Planning.Split;

/// <summary>A request type for <see cref="SplitPlanCache{TKey}"/>: everything a split plan built by <see cref="SplitCostBuilder"/> depends on.</summary>
/// <param name="Model">The model.</param>
/// <param name="ClientDevice">The client's device type.</param>
/// <param name="ServerDevice">The server's device type.</param>
/// <param name="LinkClass">The client's link class (<c>5g</c>, <c>wifi</c>, ...); two links of one class must have the same latency and bandwidth.</param>
/// <param name="PromptTokens">Prompt length.</param>
/// <param name="OutputTokens">Output length.</param>
/// <param name="SlaSeconds">The latency SLA.</param>
/// <param name="ClientMemoryBudgetBytes">The client memory budget, <see langword="null"/> for the builder's default.</param>
/// <param name="Planner">The planner's name.</param>
public readonly record struct SplitCacheKey(
    ModelId Model,
    DeviceId ClientDevice,
    DeviceId ServerDevice,
    string LinkClass,
    int PromptTokens,
    int OutputTokens,
    double SlaSeconds,
    double? ClientMemoryBudgetBytes,
    string Planner);
