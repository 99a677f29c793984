using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Strata.Runtime.Coordination;

namespace Strata.Runtime.Tests.Coordination;

/// <summary>An etcd cluster of its own for one test: members on free loopback ports with temporary data folders, killed (SIGKILL) and deleted on dispose.</summary>
internal sealed class EtcdCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly Process?[] _members;

    private EtcdCluster(string root, int[] clientPorts, Process?[] members)
    {
        _root = root;
        ClientPorts = clientPorts;
        _members = members;
    }

    /// <summary>The etcd binary on the PATH, or null.</summary>
    public static string? Binary { get; } = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
        .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, "etcd"))
        .FirstOrDefault(File.Exists);

    /// <summary>Each member's client port.</summary>
    public IReadOnlyList<int> ClientPorts { get; }

    /// <summary>Each member's client URL.</summary>
    public IReadOnlyList<Uri> Endpoints => [.. ClientPorts.Select(p => new Uri($"http://127.0.0.1:{p}"))];

    /// <summary>The <c>--registry</c> text for every member.</summary>
    public string RegistryText => "etcd://" + string.Join(',', ClientPorts.Select(p => $"127.0.0.1:{p}"));

    /// <summary>Registry options over every member (or only <paramref name="members"/>), with <paramref name="leaseTtl"/> (default 2 s, etcd's floor here).</summary>
    public EtcdRegistryOptions Options(TimeSpan? leaseTtl = null, params int[] members) => new()
    {
        Endpoints = members.Length == 0 ? Endpoints : [.. members.Select(m => Endpoints[m])],
        ServerLeaseTtl = leaseTtl ?? TimeSpan.FromSeconds(2),
        CallTimeout = TimeSpan.FromSeconds(3),
    };

    /// <summary>Starts <paramref name="members"/> members (fast elections: 50 ms heartbeats, 500 ms election time-out) and waits until each serves clients.</summary>
    public static async Task<EtcdCluster> StartAsync(int members = 1)
    {
        var binary = Binary ?? throw new InvalidOperationException("etcd is not installed.");
        var root = Path.Combine(Path.GetTempPath(), "strata-etcd-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var ports = FreePorts(2 * members);
        var clientPorts = ports.Take(members).ToArray();
        var peerPorts = ports.Skip(members).ToArray();
        var initial = string.Join(',', Enumerable.Range(0, members).Select(i => $"m{i}=http://127.0.0.1:{peerPorts[i]}"));
        var processes = new Process?[members];
        var cluster = new EtcdCluster(root, clientPorts, processes);
        try
        {
            var ready = new Task[members];
            for (var i = 0; i < members; i++)
            {
                var info = new ProcessStartInfo(binary)
                {
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                };
                foreach (var arg in new[]
                {
                    "--name", $"m{i}", "--data-dir", Path.Combine(root, $"m{i}"),
                    "--listen-client-urls", $"http://127.0.0.1:{clientPorts[i]}", "--advertise-client-urls", $"http://127.0.0.1:{clientPorts[i]}",
                    "--listen-peer-urls", $"http://127.0.0.1:{peerPorts[i]}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPorts[i]}",
                    "--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", Path.GetFileName(root),
                    "--heartbeat-interval", "50", "--election-timeout", "500", "--log-level", "warn",
                })
                {
                    info.ArgumentList.Add(arg);
                }

                var process = Process.Start(info) ?? throw new InvalidOperationException("etcd did not start.");
                processes[i] = process;
                process.OutputDataReceived += (_, _) => { };
                process.ErrorDataReceived += (_, _) => { };
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
                ready[i] = WaitServingAsync(clientPorts[i]);
            }

            await Task.WhenAll(ready).WaitAsync(TimeSpan.FromSeconds(30));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills member <paramref name="index"/> with SIGKILL.</summary>
    public void Kill(int index)
    {
        var process = _members[index];
        if (process is not null && !process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }

    /// <summary>Freezes member <paramref name="index"/> with SIGSTOP: its connections stay open and nothing answers, as when a network partition cuts it off.</summary>
    public void Pause(int index) => Signal(index, "STOP");

    /// <summary>Thaws a member frozen by <see cref="Pause"/> (SIGCONT).</summary>
    public void Resume(int index) => Signal(index, "CONT");

    private void Signal(int index, string signal)
    {
        var process = _members[index];
        if (process is null || process.HasExited)
        {
            return;
        }

        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("kill did not start.");
        kill.WaitForExit(5000);
        Assert.True(kill.ExitCode == 0, $"kill -{signal} of etcd member {index} exited {kill.ExitCode}");
    }

    public ValueTask DisposeAsync()
    {
        for (var i = 0; i < _members.Length; i++)
        {
            Kill(i);
            _members[i]?.Dispose();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    // A member serves once its health endpoint answers {"health":"true"} (it has a leader).
    private static async Task WaitServingAsync(int clientPort)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            try
            {
                var body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{clientPort}/health"));
                if (body.Contains("true", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(50);
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }
}
