namespace Strata.Simulation.Swarm;

/// <summary>What happened to one request of a swarm simulation.</summary>
/// <param name="Request">Request index (arrival order).</param>
/// <param name="Client">Client index.</param>
/// <param name="ArrivalSeconds">Arrival time.</param>
/// <param name="FirstStartSeconds">When it first held cache on every hop (NaN if never).</param>
/// <param name="FirstTokenSeconds">When its first token reached the client (NaN if never).</param>
/// <param name="CompletionSeconds">When its last token reached the client (NaN if failed).</param>
/// <param name="OutputTokens">Output tokens, the first included.</param>
/// <param name="Retries">Times its path broke and it re-routed.</param>
/// <param name="FailureReason">Why it failed; null when it completed.</param>
/// <param name="FirstRouteCostSeconds">The routing policy's cost of the first path it chose (WS-RR: expected waits plus request time); NaN if never routed.</param>
public sealed record SwarmRequestOutcome(
    int Request,
    int Client,
    double ArrivalSeconds,
    double FirstStartSeconds,
    double FirstTokenSeconds,
    double CompletionSeconds,
    int OutputTokens,
    int Retries,
    string? FailureReason,
    double FirstRouteCostSeconds = double.NaN)
{
    /// <summary>Whether it completed.</summary>
    public bool Completed => FailureReason is null;

    /// <summary>Arrival to first token.</summary>
    public double TtftSeconds => FirstTokenSeconds - ArrivalSeconds;

    /// <summary>Arrival to first holding cache on every hop.</summary>
    public double WaitSeconds => FirstStartSeconds - ArrivalSeconds;

    /// <summary>Sun et al.'s per-token time: arrival to last token over output tokens (waiting and prefill included).</summary>
    public double PerTokenSeconds => (CompletionSeconds - ArrivalSeconds) / OutputTokens;
}
