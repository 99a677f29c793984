using System.CommandLine;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Strata.Cli.Output;
using Strata.Core;
using Strata.Runtime.Coordination;
using Strata.Runtime.Security;

namespace Strata.Cli.Commands;

/// <summary><c>strata serve</c>: the long-running processes of the runtime (coordinator, block servers).</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context) =>
        new("serve", "Run a process of the distributed runtime until Ctrl+C or SIGTERM: a coordinator, a block server or the OpenAI-compatible gateway.")
        {
            ServeCoordinatorCommand.Create(context),
            ServeBlockCommand.Create(context),
            ServeGatewayCommand.Create(context),
        };

    /// <summary>The <c>--coordinator</c> URL of a serve or generate command.</summary>
    /// <exception cref="StrataException">It is not an absolute http or https URL.</exception>
    public static Uri CoordinatorUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new StrataException($"--coordinator is '{text}'; expected an http URL such as http://127.0.0.1:50100.");

    /// <summary>The coordinators of a <c>--coordinator URL[,URL...]</c> (several share one etcd registry; calls fail over in this order).</summary>
    /// <exception cref="StrataException">An entry is not an http(s) URL.</exception>
    public static IReadOnlyList<Uri> CoordinatorUrls(string text) =>
        [.. text.Split(',', StringSplitOptions.TrimEntries).Select(CoordinatorUrl)];

    /// <summary>A client of the coordinators in <paramref name="urls"/> that logs each fail-over to <paramref name="loggers"/>, connecting with <paramref name="tls"/> (null: the system trust store).</summary>
    public static CoordinatorClient Coordinators(IReadOnlyList<Uri> urls, ILoggerFactory loggers, TlsOptions? tls = null) => new(urls, logger: loggers.CreateLogger<CoordinatorClient>(), tls: tls);

    /// <summary>The <c>--log-level</c> option of a serve command.</summary>
    public static Option<LogLevel> LogLevelOption(string informationMeans) => new("--log-level")
    {
        Description = $"Least severe log lines written to stderr: Trace, Debug, Information ({informationMeans}), Warning, Error, Critical, None.",
        DefaultValueFactory = _ => LogLevel.Information,
        HelpName = "level",
    };

    /// <summary>The <c>--metrics-port</c> option of a serve command.</summary>
    public static Option<int?> MetricsPortOption() => new("--metrics-port")
    {
        Description = "Also serve /health and /metrics (Prometheus text) over HTTP/1.1 on this port, cleartext even with --tls-cert; 0 picks a free one (printed). Without it they are served on --port over prior-knowledge HTTP/2 only (curl --http2-prior-knowledge; over TLS: curl --cacert CA https://HOST:PORT/health).",
        HelpName = "port",
    };

    /// <summary>Loggers writing one line per entry at <paramref name="level"/> or above to <paramref name="error"/> (standard error; stdout stays for the listening line and JSON).</summary>
    public static ILoggerFactory Logging(TextWriter error, LogLevel level) => LoggerFactory.Create(logging => logging
        .SetMinimumLevel(level)
        .AddProvider(new TextWriterLoggerProvider(error, TimeProvider.System)));

    /// <summary>The <c>--port</c> of a serve command: 0 (a free port) to 65535.</summary>
    /// <exception cref="StrataException">It is out of range.</exception>
    public static int Port(int port) =>
        port is >= 0 and <= 65535 ? port : throw new StrataException($"--port is {port}; expected 0 (a free port) to 65535.");

    /// <summary>The line that says where <c>/health</c> and <c>/metrics</c> are served over HTTP/1.1.</summary>
    public static string MetricsLine(Uri address) => $"metrics on {address.Scheme}://{address.Authority}/metrics";

    /// <summary>The <c>--metrics-port</c> of a serve command: null (none), 0 (a free port) to 65535.</summary>
    /// <exception cref="StrataException">It is out of range.</exception>
    public static int? MetricsPort(int? port) =>
        port is null or (>= 0 and <= 65535) ? port : throw new StrataException($"--metrics-port is {port}; expected 0 (a free port) to 65535.");

    /// <summary>The <c>--host</c> option of a serve command: the address to bind.</summary>
    public static Option<string> HostOption() => new("--host")
    {
        Description = "Address to listen on: an IP literal (0.0.0.0: every IPv4 interface; ::, every interface) or localhost.",
        DefaultValueFactory = _ => "127.0.0.1",
        HelpName = "addr",
    };

    /// <summary>The <c>--advertise</c> option of a serve command: the URL others are given.</summary>
    public static Option<string?> AdvertiseOption(string givenTo) => new("--advertise")
    {
        Description = $"The URL {givenTo}, for example http://10.0.0.5:50101; without a port, the bound one. Default: http://HOST:PORT of --host and the bound port (for a wildcard --host, this machine's first non-loopback IPv4 address).",
        HelpName = "url",
    };

    /// <summary>The <c>--host</c> of a serve command as an address to bind.</summary>
    /// <exception cref="StrataException">It is neither an IP literal nor <c>localhost</c>.</exception>
    public static IPAddress ListenAddress(string text)
    {
        if (string.Equals(text, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        var literal = text.Length > 2 && text[0] == '[' && text[^1] == ']' ? text[1..^1] : text;
        return IPAddress.TryParse(literal, out var address)
            ? address
            : throw new StrataException($"--host is '{text}'; expected an IP address of this machine (0.0.0.0 for every interface) or localhost.");
    }

    /// <summary>The <c>--advertise</c> URL of a serve command, checked before anything starts (null when not given).</summary>
    /// <exception cref="StrataException">It is not an absolute http or https URL of a host (and port).</exception>
    public static Uri? AdvertiseUrl(string? text)
    {
        if (text is null)
        {
            return null;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            && url.AbsolutePath == "/" && url.Query.Length == 0 && url.UserInfo.Length == 0
            ? url
            : throw new StrataException($"--advertise is '{text}'; expected an http URL of a host and port, such as http://10.0.0.5:50101.");
    }

    /// <summary>
    /// The URL a server announces: <paramref name="advertise"/> (with the bound port when it names none), or the bound
    /// address, a wildcard one replaced by this machine's first non-loopback IPv4 address.
    /// </summary>
    public static Uri Advertised(Uri? advertise, string? advertiseText, IPAddress listen, Uri bound)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(bound);
        if (advertise is not null)
        {
            var text = advertiseText ?? advertise.OriginalString;
            var authority = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..].Split('/')[0];
            var explicitPort = authority.LastIndexOf(':') > authority.LastIndexOf(']');
            return explicitPort ? advertise : new UriBuilder(advertise) { Port = bound.Port }.Uri;
        }

        if (listen.Equals(IPAddress.Any) || listen.Equals(IPAddress.IPv6Any))
        {
            var address = NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a)) ?? IPAddress.Loopback;
            return new UriBuilder(bound) { Host = address.ToString() }.Uri;
        }

        return bound;
    }

    /// <summary>
    /// The URL a server announces, made <c>https</c> when it serves TLS (<paramref name="tls"/> with a certificate): an
    /// <c>--advertise http://...</c> keeps its host and port, since clients must speak TLS to it.
    /// </summary>
    public static Uri Advertised(Uri? advertise, string? advertiseText, IPAddress listen, Uri bound, TlsOptions? tls)
    {
        var url = Advertised(advertise, advertiseText, listen, bound);
        return tls?.ServesTls == true && url.Scheme == Uri.UriSchemeHttp ? new UriBuilder(url) { Scheme = Uri.UriSchemeHttps }.Uri : url;
    }

    /// <summary>The line a parent process reads to learn the bound address.</summary>
    public static string ListeningLine(Uri address) => $"listening on {address.Scheme}://{address.Authority}";

    /// <summary>Waits until the command is cancelled or the process gets SIGINT (Ctrl+C), SIGTERM or SIGQUIT, so that the caller can shut down cleanly.</summary>
    public static Task WaitForShutdownAsync(CancellationToken cancellationToken) => WaitForShutdownAsync(null, cancellationToken);

    /// <summary>Waits as <see cref="WaitForShutdownAsync(CancellationToken)"/> does, or until <paramref name="until"/> completes; true when <paramref name="until"/> came first.</summary>
    public static async Task<bool> WaitForShutdownAsync(Task? until, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void OnSignal(PosixSignalContext signal)
        {
            signal.Cancel = true; // no abrupt exit: deregister and stop first
            stop.Cancel();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal);
        var stopped = Task.Delay(Timeout.Infinite, stop.Token);
        if (until is not null && await Task.WhenAny(stopped, until).ConfigureAwait(false) == until)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            return true;
        }

        try
        {
            await stopped.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The normal way out.
        }

        return false;
    }
}
