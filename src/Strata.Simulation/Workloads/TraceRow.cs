namespace Strata.Simulation.Workloads;

/// <summary>One request of a recorded trace.</summary>
/// <param name="ArrivalSeconds">Arrival time since the trace's first request.</param>
/// <param name="PromptTokens">Prompt (context) tokens.</param>
/// <param name="OutputTokens">Generated tokens.</param>
public readonly record struct TraceRow(double ArrivalSeconds, int PromptTokens, int OutputTokens);
