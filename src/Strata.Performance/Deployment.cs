using Strata.Core;
using Strata.Core.Hardware;
using Strata.Core.Models;

namespace Strata.Performance;

/// <summary>A model served on a machine: which devices, how many in tensor parallel, at what precision.</summary>
/// <remarks>The machine's devices are all used in one tensor-parallel group of <see cref="MachineSpec.DeviceCount"/>.</remarks>
public sealed record Deployment
{
    /// <summary>Creates a deployment and checks it is consistent.</summary>
    /// <exception cref="StrataException">The tensor-parallel degree does not divide the model's heads.</exception>
    public Deployment(ModelArchitecture model, MachineSpec machine, Precision precision)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(machine);
        Model = model;
        Machine = machine;
        Precision = precision;
        if (model.AttentionHeadCount % machine.DeviceCount != 0)
        {
            throw new StrataException(
                $"Tensor parallelism {machine.DeviceCount} does not divide model '{model.Id}''s {model.AttentionHeadCount} attention heads; pick a degree that does.");
        }
    }

    /// <summary>The model.</summary>
    public ModelArchitecture Model { get; }

    /// <summary>The machine; all its devices form one tensor-parallel group.</summary>
    public MachineSpec Machine { get; }

    /// <summary>Weight precision.</summary>
    public Precision Precision { get; }

    /// <summary>The device type.</summary>
    public DeviceSpec Device => Machine.Device;

    /// <summary>Tensor-parallel degree (number of devices).</summary>
    public int TensorParallel => Machine.DeviceCount;

    /// <summary>A short label: model, device, degree and precision.</summary>
    public string Label => $"{Model.Id}/{Device.Id}/tp{TensorParallel}/{PrecisionInfo.Name(Precision)}";
}
