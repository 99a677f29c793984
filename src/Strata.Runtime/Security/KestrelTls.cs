using System.Security.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Strata.Runtime.Security;

/// <summary>Puts a Kestrel endpoint behind TLS as <see cref="TlsOptions"/> says (HTTP/2 negotiated by ALPN).</summary>
internal static class KestrelTls
{
    /// <summary>Serves <paramref name="listen"/> over TLS with <paramref name="tls"/>'s certificate when it has one; requires a client certificate chaining to its client authorities when it has those.</summary>
    public static void Apply(ListenOptions listen, TlsOptions? tls)
    {
        if (tls?.Certificate is not { } certificate)
        {
            return;
        }

        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateMode = tls.ClientAuthorities is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
            CheckCertificateRevocation = false,
            // Kestrel's own chain check uses the system store; ours trusts exactly the client authorities.
            ClientCertificateValidation = (client, chain, _) => tls.IsTrustedClient(client, chain),
        });
    }
}
