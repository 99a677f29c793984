namespace Strata.Cli.Demo;

/// <summary>One inference path of the runtime demo: its requests, their speed, and whether they matched the local reference.</summary>
/// <param name="Path">swarm, split, phase-split, gateway or failover.</param>
/// <param name="Requests">Requests run through the path (concurrently).</param>
/// <param name="Matched">Requests whose tokens (or text, for the gateway) equal the local reference.</param>
/// <param name="MeanTtftSeconds">Mean time to first token (NaN where the path does not report it).</param>
/// <param name="MeanTpotSeconds">Mean time per output token after the first (NaN where not reported).</param>
/// <param name="TokensPerSecond">Output tokens of all requests over the wall time of the batch.</param>
/// <param name="Route">The servers and block ranges of the last request (client blocks marked "client").</param>
/// <param name="Failovers">Re-routes after a dead or full server, over the path's requests.</param>
internal sealed record DemoPathResult(
    string Path, int Requests, int Matched, double MeanTtftSeconds, double MeanTpotSeconds, double TokensPerSecond, string Route, int Failovers);
