namespace Strata.Performance.Profiles;

/// <summary>Which deployment a measured profile belongs to: model, hardware and tensor parallelism.</summary>
/// <remarks>
/// Names compare after normalising to lower-case letters and digits, so the catalog's <c>llama-2-70b</c> matches
/// the profile's <c>llama2-70b</c>; they print as given.
/// </remarks>
/// <param name="Model">Model name.</param>
/// <param name="Hardware">Hardware name.</param>
/// <param name="TensorParallel">Tensor-parallel degree.</param>
public readonly record struct ProfileKey(string Model, string Hardware, int TensorParallel)
{
    /// <summary>Lower-cases and drops everything but letters and digits.</summary>
    public static string Normalize(string name) =>
        string.Concat(name.Where(char.IsLetterOrDigit)).ToLowerInvariant();

    /// <summary>The key for a deployment.</summary>
    public static ProfileKey Of(Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return new ProfileKey(deployment.Model.Id.Value, deployment.Device.Id.Value, deployment.TensorParallel);
    }

    /// <summary>Whether both keys name the same deployment, ignoring case and punctuation.</summary>
    public bool Equals(ProfileKey other) =>
        TensorParallel == other.TensorParallel
        && Normalize(Model ?? "") == Normalize(other.Model ?? "")
        && Normalize(Hardware ?? "") == Normalize(other.Hardware ?? "");

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Normalize(Model ?? ""), Normalize(Hardware ?? ""), TensorParallel);

    /// <inheritdoc />
    public override string ToString() => $"{Model}/{Hardware}/tp{TensorParallel}";
}
