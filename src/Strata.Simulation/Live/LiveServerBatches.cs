namespace Strata.Simulation.Live;

/// <summary>The decode steps the loopback predictor's batching model runs at one server, and the sessions' tokens they carry.</summary>
/// <param name="Server">The server's name (from <see cref="LiveSessionPlan.Servers"/>).</param>
/// <param name="Steps">Batched decode steps.</param>
/// <param name="Rows">Sessions' tokens over those steps.</param>
public sealed record LiveServerBatches(string Server, int Steps, int Rows)
{
    /// <summary>The mean batch: rows per step (0 without steps).</summary>
    public double RowsPerStep => Steps == 0 ? 0 : (double)Rows / Steps;
}
