namespace Strata.Simulation.Swarm;

/// <summary>What happens to a server at a churn event.</summary>
public enum ChurnKind
{
    /// <summary>The server crashes: its sessions lose their cache there and their clients back off and re-route.</summary>
    Fail,
    /// <summary>The server leaves cleanly: its sessions re-route at once, without back-off.</summary>
    Leave,
    /// <summary>The server (re)joins and the placement gives it blocks.</summary>
    Join,
}
