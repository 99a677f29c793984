namespace Strata.Simulation.Live;

/// <summary>What the predictor expects of one generation.</summary>
/// <param name="TtftSeconds">Time to the first token (routing, prefill along the route, head).</param>
/// <param name="TpotSeconds">Mean time per output token after the first (closing the session included, as the runtime measures it).</param>
/// <param name="E2eSeconds">Start to the session closed.</param>
public sealed record LiveSessionPrediction(double TtftSeconds, double TpotSeconds, double E2eSeconds);
