namespace Strata.Simulation.Cluster;

/// <summary>What happened to one request (kept only when <see cref="ClusterSimulationOptions.KeepRequestOutcomes"/> is set).</summary>
/// <param name="Index">Position in the workload.</param>
/// <param name="Completed">Whether every output token was produced.</param>
/// <param name="TtftSeconds">Time to first token (NaN if none).</param>
/// <param name="E2eSeconds">Arrival to last token (NaN if not completed).</param>
/// <param name="PrefillMachine">Machine of the (last) prefill.</param>
/// <param name="DecodeMachine">Machine that decoded it.</param>
/// <param name="Preemptions">Times it was preempted (recomputed).</param>
/// <param name="ArrivalSeconds">Arrival time.</param>
/// <param name="PromptTokens">Prompt length.</param>
/// <param name="OutputTokens">Output length.</param>
public readonly record struct RequestOutcome(int Index, bool Completed, double TtftSeconds, double E2eSeconds, int PrefillMachine, int DecodeMachine, int Preemptions = 0, double ArrivalSeconds = 0, int PromptTokens = 0, int OutputTokens = 0);
