using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Strata.Runtime.Security;

/// <summary>
/// The TLS settings of one process of the runtime: the certificate it serves (and presents as a client certificate),
/// the authorities it trusts for the servers it connects to, and the authorities a client certificate must chain to.
/// </summary>
/// <remarks>
/// One record for both ends because block servers and gateways are both: they serve, and they call the coordinator
/// (and, for block servers, each other's bulk KV port). Load the certificates with <see cref="TlsCertificates"/>.
/// Thread-safe once built (nothing in it is mutated after construction).
/// </remarks>
public sealed record TlsOptions
{
    /// <summary>
    /// The certificate, with its private key, that servers serve (TLS is on for a server exactly when this is set)
    /// and that clients present when a server asks for a client certificate; null for none.
    /// </summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>
    /// Authorities the servers this process connects to must chain to (exactly these, nothing from the system store);
    /// null: the system trust store. The host name of the URL is checked against the certificate either way.
    /// </summary>
    public X509Certificate2Collection? TrustedAuthorities { get; init; }

    /// <summary>
    /// Servers only (mutual TLS): every client must present a certificate chaining to one of these authorities, or its
    /// connection is refused during the handshake; null: no client certificate is asked for.
    /// </summary>
    public X509Certificate2Collection? ClientAuthorities { get; init; }

    /// <summary>Whether a server with these options serves TLS.</summary>
    public bool ServesTls => Certificate is not null;

    /// <summary>Checks that a server certificate is present when client certificates are required.</summary>
    /// <exception cref="ArgumentException">Client authorities without a certificate to serve (mutual TLS needs TLS).</exception>
    public TlsOptions Validate()
    {
        if (ClientAuthorities is not null && Certificate is null)
        {
            throw new ArgumentException("Requiring client certificates (ClientAuthorities) needs a server certificate (Certificate): mutual TLS is TLS first.", nameof(ClientAuthorities));
        }

        if (Certificate is { HasPrivateKey: false })
        {
            throw new ArgumentException("The TLS certificate has no private key; load it with TlsCertificates.Load.", nameof(Certificate));
        }

        return this;
    }

    /// <summary>The client side of a TLS handshake with <paramref name="targetHost"/> (null: the host of the request, for HTTP handlers).</summary>
    internal SslClientAuthenticationOptions ClientAuthentication(string? targetHost)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        };
        if (TrustedAuthorities is { } authorities)
        {
            // Exactly these roots; the host name is still checked by SslStream (RemoteCertificateNameMismatch).
            options.CertificateChainPolicy = ChainPolicy(authorities);
        }

        if (Certificate is { } certificate)
        {
            options.ClientCertificates = [certificate];
        }

        return options;
    }

    /// <summary>The server side of a TLS handshake on the bulk KV path (the same certificate as gRPC, mutual when <see cref="ClientAuthorities"/> is set).</summary>
    internal SslServerAuthenticationOptions ServerAuthentication() => new()
    {
        ServerCertificate = Certificate ?? throw new InvalidOperationException("A server without a certificate serves no TLS."),
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        ClientCertificateRequired = ClientAuthorities is not null,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = (_, certificate, chain, _) => ClientAuthorities is null || IsTrustedClient(certificate as X509Certificate2, chain),
    };

    /// <summary>Whether <paramref name="certificate"/> chains to one of <see cref="ClientAuthorities"/> (false when there is none to check).</summary>
    /// <param name="certificate">The client's certificate, or null when it presented none.</param>
    /// <param name="presented">The chain the TLS layer built, whose extra certificates (intermediates the client sent) are reused.</param>
    internal bool IsTrustedClient(X509Certificate2? certificate, X509Chain? presented)
    {
        if (certificate is null || ClientAuthorities is null)
        {
            return false;
        }

        using var chain = new X509Chain { ChainPolicy = ChainPolicy(ClientAuthorities) };
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate);
    }

    // A fresh policy per use here (IsTrustedClient adds to its ExtraStore); SslStream clones the one it is given.
    private static X509ChainPolicy ChainPolicy(X509Certificate2Collection authorities)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            // Private CAs publish no revocation lists; checking would fail every chain (RevocationStatusUnknown).
            RevocationMode = X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.AddRange(authorities);
        return policy;
    }
}
