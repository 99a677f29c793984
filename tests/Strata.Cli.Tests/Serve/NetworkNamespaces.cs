using System.Diagnostics;
using System.Security.Cryptography;

namespace Strata.Cli.Tests.Serve;

/// <summary>
/// Network namespaces joined through a bridge (in a hub namespace of their own) by veth links shaped with <c>tc tbf</c>:
/// hosts of one test, created by it and removed on dispose whatever happened. Names carry a random suffix, so parallel
/// runs never meet; the hub keeps the bridge out of the machine's own namespace.
/// </summary>
internal sealed class NetworkNamespaces : IDisposable
{
    private readonly string _suffix = Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
    private readonly List<string> _namespaces = [];
    private readonly List<string> _links = [];
    private readonly string _hub;

    private NetworkNamespaces()
    {
        _hub = $"strata-{_suffix}-hub";
    }

    /// <summary>Why these tests cannot run here, or null when they can (root, with <c>ip</c> and <c>tc</c> on the PATH).</summary>
    public static string? Unavailable => Probe.Value;

    // Root alone is not enough (a container may run as root without CAP_NET_ADMIN): make and remove a namespace with a
    // shaped veth pair once, and skip, saying what failed, where that cannot be done.
    private static readonly Lazy<string?> Probe = new(() =>
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "not running as root: the network-namespace tests need CAP_NET_ADMIN to create namespaces and veth links.";
        }

        if (Which("ip") is null || Which("tc") is null)
        {
            return "ip or tc (iproute2) is not on the PATH: the network-namespace tests are skipped.";
        }

        var ns = $"strata-probe-{Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant()}";
        try
        {
            Run("ip", ["netns", "add", ns], check: true);
            Run("ip", ["-n", ns, "link", "add", "pa", "type", "veth", "peer", "name", "pb"], check: true);
            Run("ip", ["netns", "exec", ns, "tc", "qdisc", "add", "dev", "pa", "root", "tbf", "rate", "100mbit", "burst", "32kbit", "latency", "50ms"], check: true);
            return null;
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            return $"network namespaces, veth links or tc tbf cannot be made here ({exception.Message}): the network-namespace tests are skipped.";
        }
        finally
        {
            Run("ip", ["netns", "delete", ns], check: false);
        }
    });

    /// <summary>The address of each host, by name, on the hosts' shared /24.</summary>
    public IReadOnlyDictionary<string, string> Addresses => _addresses;

    private readonly Dictionary<string, string> _addresses = new(StringComparer.Ordinal);

    /// <summary>The namespace of host <paramref name="host"/>.</summary>
    public string Namespace(string host) => $"strata-{_suffix}-{host}";

    /// <summary>Creates one namespace per host on 10.77.0.0/24 (host i at .i+1), each linked to the bridge at <paramref name="rateMbit"/> Mbit/s each way.</summary>
    public static NetworkNamespaces Create(IReadOnlyList<string> hosts, int rateMbit)
    {
        var net = new NetworkNamespaces();
        try
        {
            net.Ip("netns", "add", net._hub);
            net._namespaces.Add(net._hub);
            net.In(net._hub, "ip", "link", "add", "br0", "type", "bridge");
            net.In(net._hub, "ip", "link", "set", "br0", "up");
            for (var i = 0; i < hosts.Count; i++)
            {
                var ns = net.Namespace(hosts[i]);
                net.Ip("netns", "add", ns);
                net._namespaces.Add(ns);
                var hubSide = $"sv{net._suffix}h{i}";
                var hostSide = $"sv{net._suffix}p{i}";
                net.Ip("link", "add", hubSide, "type", "veth", "peer", "name", hostSide);
                net._links.Add(hubSide);
                net.Ip("link", "set", hubSide, "netns", net._hub);
                net.Ip("link", "set", hostSide, "netns", ns);
                net.In(net._hub, "ip", "link", "set", hubSide, "master", "br0");
                net.In(net._hub, "ip", "link", "set", hubSide, "up");
                var address = $"10.77.0.{i + 1}";
                net.In(ns, "ip", "addr", "add", address + "/24", "dev", hostSide);
                net.In(ns, "ip", "link", "set", hostSide, "up");
                net.In(ns, "ip", "link", "set", "lo", "up");
                // Token-bucket shaping on both ends of the link: what leaves the host and what the bridge sends it.
                var rate = $"{rateMbit}mbit";
                net.In(ns, "tc", "qdisc", "add", "dev", hostSide, "root", "tbf", "rate", rate, "burst", "64kb", "latency", "200ms");
                net.In(net._hub, "tc", "qdisc", "add", "dev", hubSide, "root", "tbf", "rate", rate, "burst", "64kb", "latency", "200ms");
                net._addresses[hosts[i]] = address;
            }

            return net;
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>Deletes every namespace (their veth ends and the bridge go with them) and any link left in this namespace.</summary>
    public void Dispose()
    {
        foreach (var ns in Enumerable.Reverse(_namespaces))
        {
            Run("ip", ["netns", "del", ns], check: false);
        }

        foreach (var link in _links)
        {
            Run("ip", ["link", "del", link], check: false); // only when a failure left it here
        }
    }

    /// <summary>Whether namespace <paramref name="ns"/> still exists.</summary>
    public static bool Exists(string ns) => Run("ip", ["netns", "list"], check: true).Split('\n').Any(l => l.Split(' ')[0] == ns);

    private void Ip(params string[] arguments) => Run("ip", arguments, check: true);

    private void In(string ns, string command, params string[] arguments) => Run("ip", ["netns", "exec", ns, command, .. arguments], check: true);

    private static string Run(string file, string[] arguments, bool check)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within 30 s.");
        }

        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {error.Trim()}");
        }

        return output.Result;
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin"])
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
}
