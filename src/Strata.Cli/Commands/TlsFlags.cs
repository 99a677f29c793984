using System.CommandLine;
using Strata.Core;
using Strata.Runtime.Security;

namespace Strata.Cli.Commands;

/// <summary>
/// The TLS options of a command: <c>--tls-cert</c> and <c>--tls-key</c> (served by servers, presented as a client
/// certificate by everything), <c>--tls-ca</c> (what the servers it connects to must chain to) and, on servers,
/// <c>--tls-client-ca</c> (mutual TLS). See docs/security.md.
/// </summary>
internal sealed class TlsFlags
{
    private readonly Option<string?> _certificate;
    private readonly Option<string?> _key = new("--tls-key") { Description = "PEM private key of --tls-cert (unencrypted; protect it with file permissions).", HelpName = "file" };
    private readonly Option<string?> _authorities = new("--tls-ca")
    {
        Description = "PEM bundle of the CA certificates that https servers this process connects to must chain to (exactly these; the URL's host is checked). Default: the system trust store.",
        HelpName = "file",
    };

    private readonly Option<string?>? _clientAuthorities;
    private readonly bool _connects;

    /// <summary>The flags of a command that connects only (<paramref name="serves"/> false) or also serves.</summary>
    /// <param name="serves">True for serve commands: <c>--tls-cert</c> turns TLS on, and <c>--tls-client-ca</c> is offered.</param>
    /// <param name="connectsTo">What the process connects to, for the help of <c>--tls-cert</c> as a client certificate; null for a process that connects to nothing (no <c>--tls-ca</c> then).</param>
    /// <param name="metricsPort">Whether the command has a <c>--metrics-port</c> (which stays cleartext), for the help.</param>
    public TlsFlags(bool serves, string? connectsTo, bool metricsPort = false)
    {
        var asClient = connectsTo is null ? string.Empty : $"; also presented as the client certificate to {connectsTo}";
        _certificate = new Option<string?>("--tls-cert")
        {
            Description = serves
                ? $"PEM certificate to serve over TLS (HTTP/2 by ALPN; the printed and advertised URL becomes https), with --tls-key{asClient}.{(metricsPort ? " The --metrics-port endpoint stays cleartext." : string.Empty)}"
                : $"PEM client certificate presented to {connectsTo} when they require one (mutual TLS), with --tls-key.",
            HelpName = "file",
        };
        _connects = connectsTo is not null;
        if (serves)
        {
            _clientAuthorities = new Option<string?>("--tls-client-ca")
            {
                Description = "Mutual TLS: refuse every client (servers, gateways, generate) whose certificate does not chain to a CA in this PEM bundle. Needs --tls-cert.",
                HelpName = "file",
            };
        }
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_certificate);
        command.Options.Add(_key);
        if (_connects)
        {
            command.Options.Add(_authorities);
        }

        if (_clientAuthorities is not null)
        {
            command.Options.Add(_clientAuthorities);
        }
    }

    /// <summary>The TLS settings the flags give, loaded and checked now; null when no TLS flag was given.</summary>
    /// <exception cref="StrataException">A flag without its partner, or a file that is missing, unreadable, expired or mismatched (named in the message).</exception>
    public TlsOptions? Read(ParseResult parseResult)
    {
        var certificateFile = parseResult.GetValue(_certificate);
        var keyFile = parseResult.GetValue(_key);
        var authoritiesFile = _connects ? parseResult.GetValue(_authorities) : null;
        var clientAuthoritiesFile = _clientAuthorities is null ? null : parseResult.GetValue(_clientAuthorities);
        if ((certificateFile is null) != (keyFile is null))
        {
            throw new StrataException(certificateFile is null
                ? $"--tls-key is '{keyFile}' but --tls-cert is missing; give both (the certificate and its private key) or neither."
                : $"--tls-cert is '{certificateFile}' but --tls-key is missing; give both (the certificate and its private key) or neither.");
        }

        if (clientAuthoritiesFile is not null && certificateFile is null)
        {
            throw new StrataException($"--tls-client-ca is '{clientAuthoritiesFile}' but --tls-cert is missing; mutual TLS needs the server's own certificate and key too.");
        }

        if (certificateFile is null && authoritiesFile is null)
        {
            return null;
        }

        return new TlsOptions
        {
            Certificate = certificateFile is null ? null : Flag("--tls-cert", () => TlsCertificates.Load(certificateFile, keyFile!)),
            TrustedAuthorities = authoritiesFile is null ? null : Flag("--tls-ca", () => TlsCertificates.LoadAuthorities(authoritiesFile)),
            ClientAuthorities = clientAuthoritiesFile is null ? null : Flag("--tls-client-ca", () => TlsCertificates.LoadAuthorities(clientAuthoritiesFile)),
        };
    }

    private static T Flag<T>(string flag, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (StrataException exception)
        {
            throw new StrataException($"{flag}: {exception.Message}");
        }
    }
}
