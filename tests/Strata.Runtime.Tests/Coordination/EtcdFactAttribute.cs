namespace Strata.Runtime.Tests.Coordination;

/// <summary>A fact that needs the etcd binary (Debian's etcd-server; .ci/run installs it): skipped, saying so, where it is absent.</summary>
public sealed class EtcdFactAttribute : FactAttribute
{
    /// <summary>Skips the fact when no etcd is on the PATH.</summary>
    public EtcdFactAttribute()
    {
        if (EtcdCluster.Binary is null)
        {
            Skip = "etcd is not installed (apt-get install etcd-server, as .ci/run does): the etcd registry and fault tests are skipped.";
        }
    }
}
