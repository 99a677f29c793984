using System.Diagnostics;
using System.Text;

namespace Strata.Cli.Tests.Serve;

/// <summary>A real <c>strata serve ...</c> child process (the built strata.dll beside the tests), killed on dispose whatever happened.</summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ServeProcess(Process process, string[] arguments)
    {
        _process = process;
        Arguments = arguments;
    }

    /// <summary>The address the process printed on its <c>listening on</c> line.</summary>
    public Uri Address { get; private set; } = null!;

    public string[] Arguments { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>The child's process id (to read its memory from /proc).</summary>
    public int ProcessId => _process.Id;

    /// <summary>Starts <c>strata</c> with <paramref name="arguments"/> and waits (at most 30 s) for its <c>listening on URL</c> line.</summary>
    public static ServeProcess Start(params string[] arguments) => Launch(null, null, arguments);

    /// <summary>As <see cref="Start(string[])"/>, with <paramref name="environment"/> added to the child's environment.</summary>
    public static ServeProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] arguments) => Launch(null, environment, arguments);

    /// <summary>The start of a <c>strata</c> child process with <paramref name="arguments"/>, inside network namespace <paramref name="netns"/> (via <c>ip netns exec</c>) unless null.</summary>
    public static ProcessStartInfo StartInfo(string? netns, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var info = new ProcessStartInfo(netns is null ? dotnet : "ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        if (netns is not null)
        {
            foreach (var argument in new[] { "netns", "exec", netns, dotnet })
            {
                info.ArgumentList.Add(argument);
            }
        }

        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "strata.dll"));
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>Starts <c>strata</c> with <paramref name="arguments"/> in network namespace <paramref name="netns"/> (null: this one) and waits (at most 30 s) for its <c>listening on URL</c> line.</summary>
    public static ServeProcess StartIn(string? netns, params string[] arguments) => Launch(netns, null, arguments);

    private static ServeProcess Launch(string? netns, IReadOnlyDictionary<string, string>? environment, string[] arguments)
    {
        var info = StartInfo(netns, arguments, environment);

        var serve = new ServeProcess(Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start."), arguments);
        try
        {
            serve._process.ErrorDataReceived += (_, e) => serve.Append("stderr", e.Data);
            serve._process.BeginErrorReadLine();
            var listening = Task.Run(() =>
            {
                while (serve._process.StandardOutput.ReadLine() is { } line)
                {
                    serve.Append("stdout", line);
                    if (line.StartsWith("listening on ", StringComparison.Ordinal))
                    {
                        return line["listening on ".Length..];
                    }
                }

                return null;
            });
            if (!listening.Wait(TimeSpan.FromSeconds(30)) || listening.Result is null)
            {
                throw new TimeoutException($"strata {string.Join(' ', arguments)} printed no 'listening on' line within 30 s (exited: {serve._process.HasExited}):\n{serve.Log}");
            }

            serve.Address = new Uri(listening.Result);
            _ = Task.Run(() =>
            {
                while (serve._process.StandardOutput.ReadLine() is { } line)
                {
                    serve.Append("stdout", line);
                }
            });
            return serve;
        }
        catch
        {
            serve.Dispose();
            throw;
        }
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) for a line of the process's output containing <paramref name="text"/>; returns the line from there on, or null.</summary>
    public async Task<string?> WaitForAsync(string text, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var line = Log.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
            {
                return line[line.IndexOf(text, StringComparison.Ordinal)..].TrimEnd();
            }

            await Task.Delay(50);
        }

        return null;
    }

    /// <summary>The HTTP/1.1 metrics endpoint the process printed (<c>metrics on URL/metrics</c>, with <c>--metrics-port</c>).</summary>
    public async Task<Uri> MetricsAddressAsync()
    {
        var line = await WaitForAsync("metrics on ", TimeSpan.FromSeconds(10)) ?? throw new TimeoutException($"no 'metrics on' line:\n{Log}");
        return new Uri(line["metrics on ".Length..]);
    }

    /// <summary>Sends SIGTERM (a graceful stop) and returns the exit code, or null if it did not exit within 15 s.</summary>
    public int? Terminate()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit(5_000);
        }

        return _process.WaitForExit(15_000) ? _process.ExitCode : null;
    }

    /// <summary>Kills the process (SIGKILL: no deregistration) and waits for it to exit.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }

        _process.Dispose();
    }

    private void Append(string stream, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Append(stream).Append(": ").AppendLine(line);
        }
    }
}
