using Strata.Core.Hardware;
using Strata.Core.Models;

namespace Strata.Core.Scenarios;

/// <summary>A pool of identical machines in the cluster.</summary>
/// <param name="Id">The pool's <c>id</c>, unique among pools.</param>
/// <param name="Machine">The resolved machine type (<c>machine</c>: a catalog machine, a device, or <c>NxDEVICE</c>).</param>
/// <param name="Count">How many machines the pool holds (<c>count</c>), 0 or more.</param>
/// <param name="Role">Which phases the pool serves (<c>role</c>).</param>
/// <param name="Precision">Weight precision the pool runs the model in (<c>precision</c>); <see langword="null"/> means the model's native one.</param>
public sealed record ScenarioMachinePool(string Id, MachineSpec Machine, int Count, MachinePoolRole Role, Precision? Precision = null);
