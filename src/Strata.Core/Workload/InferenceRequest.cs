using Strata.Core.Identity;

namespace Strata.Core.Workload;

/// <summary>One generation request: when it arrives, how long its prompt is, how many tokens it wants.</summary>
/// <param name="Id">Request id, unique within a workload.</param>
/// <param name="ArrivalSeconds">Arrival time since the start of the workload.</param>
/// <param name="PromptTokens">Prompt (context) length.</param>
/// <param name="OutputTokens">Tokens to generate, including the first.</param>
/// <param name="Client">Who sent it.</param>
/// <param name="SloClass">Index into the workload's SLO classes; 0 is the default class.</param>
public readonly record struct InferenceRequest(
    RequestId Id,
    double ArrivalSeconds,
    int PromptTokens,
    int OutputTokens,
    ClientId Client = default,
    int SloClass = 0)
{
    /// <summary>Tokens in the KV cache once the request has finished: prompt plus output.</summary>
    public int TotalTokens => PromptTokens + OutputTokens;
}
