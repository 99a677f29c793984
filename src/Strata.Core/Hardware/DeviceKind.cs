namespace Strata.Core.Hardware;

/// <summary>What kind of device runs the work.</summary>
public enum DeviceKind
{
    /// <summary>A data-centre or consumer GPU.</summary>
    Gpu,
    /// <summary>A Multi-Instance GPU slice.</summary>
    Mig,
    /// <summary>A CPU (server or laptop).</summary>
    Cpu,
    /// <summary>A phone system-on-chip.</summary>
    Phone,
    /// <summary>An edge box (Jetson and the like).</summary>
    Edge,
}
