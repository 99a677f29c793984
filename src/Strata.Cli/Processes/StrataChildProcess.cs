using System.Diagnostics;
using Strata.Core;

namespace Strata.Cli.Processes;

/// <summary>A <c>strata serve ...</c> child process: started from this very program, ready once it prints its URL.</summary>
/// <remarks>
/// The child must print a line containing <c>listening on URL</c> when it serves. Disposing stops it: SIGTERM first on
/// Unix (so it deregisters and drains), then a kill of the whole process tree if it has not exited within the grace
/// period. Its output is kept for error messages.
/// </remarks>
internal sealed class StrataChildProcess : IAsyncDisposable
{
    private const string ReadyMarker = "listening on ";
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly Lock _outputLock = new();

    private StrataChildProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>The name shown in messages (for example <c>block-0</c>).</summary>
    public string Name { get; }

    /// <summary>The URL the child printed when it became ready.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The child's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Whether the child has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>strata <paramref name="arguments"/></c> and waits until it prints its URL.</summary>
    /// <exception cref="StrataException">The child exits or stays silent past <paramref name="startTimeout"/>; the message carries its last output.</exception>
    public static async Task<StrataChildProcess> StartAsync(string name, IReadOnlyList<string> arguments, TimeSpan startTimeout, CancellationToken cancellationToken)
    {
        var (fileName, prefix) = Launcher();
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in prefix.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["NO_COLOR"] = "1";
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new StrataChildProcess(name, process);
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, ready);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, null);
        process.Exited += (_, _) => ready.TrySetException(new StrataException($"{name} exited with code {SafeExitCode(process)} before it was ready: {child.LastOutput()}"));
        if (!process.Start())
        {
            throw new StrataException($"Could not start {name} ({fileName}).");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            child.Url = await ready.Task.WaitAsync(startTimeout, cancellationToken).ConfigureAwait(false);
            return child;
        }
        catch (TimeoutException)
        {
            await child.DisposeAsync().ConfigureAwait(false);
            throw new StrataException($"{name} did not print its URL within {startTimeout.TotalSeconds:F0} s: {child.LastOutput()}");
        }
        catch
        {
            await child.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Kills the child at once (a crash, as fault-tolerance demos need).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>Stops the child: SIGTERM, then a kill after a grace period.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                if (!OperatingSystem.IsWindows())
                {
                    Terminate(_process.Id);
                }

                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    Kill();
                    await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>The child's last lines of output, for messages.</summary>
    public string LastOutput()
    {
        lock (_outputLock)
        {
            return _output.Count == 0 ? "(no output)" : string.Join(" | ", _output.TakeLast(5));
        }
    }

    private void OnLine(string? line, TaskCompletionSource<string>? ready)
    {
        if (line is null)
        {
            return;
        }

        lock (_outputLock)
        {
            _output.Add(line);
            if (_output.Count > 200)
            {
                _output.RemoveAt(0);
            }
        }

        var at = line.IndexOf(ReadyMarker, StringComparison.OrdinalIgnoreCase);
        if (ready is not null && at >= 0)
        {
            var url = line[(at + ReadyMarker.Length)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (url is not null)
            {
                ready.TrySetResult(url);
            }
        }
    }

    private static int SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    /// <summary>How to run this program again: its own apphost, or <c>dotnet strata.dll</c>.</summary>
    private static (string FileName, string[] Prefix) Launcher()
    {
        var processPath = Environment.ProcessPath;
        if (processPath is not null && Path.GetFileNameWithoutExtension(processPath).Equals("strata", StringComparison.OrdinalIgnoreCase))
        {
            return (processPath, []);
        }

        var dll = typeof(StrataApp).Assembly.Location;
        var dotnet = processPath is not null && Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? processPath
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return (dotnet, [dll]);
    }

    /// <summary>Sends SIGTERM through <c>kill</c>, so the child's host shuts down gracefully.</summary>
    private static void Terminate(int processId)
    {
        try
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", processId.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false });
            kill?.WaitForExit(2_000);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No kill(1) here: the grace period ends in a kill of the tree instead.
        }
    }
}
