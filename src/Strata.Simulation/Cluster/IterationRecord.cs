namespace Strata.Simulation.Cluster;

/// <summary>One iteration (forward pass) of one machine, kept when asked for (<see cref="ClusterSimulationOptions.KeepIterations"/>).</summary>
/// <param name="Machine">Machine index.</param>
/// <param name="StartSeconds">Simulated start time.</param>
/// <param name="DurationSeconds">Step time from the machine's performance model.</param>
/// <param name="PromptTokens">Prompt tokens prefilled in the step (whole prompts or chunks).</param>
/// <param name="Decodes">Requests that generated one token in the step.</param>
public readonly record struct IterationRecord(int Machine, double StartSeconds, double DurationSeconds, long PromptTokens, int Decodes);
