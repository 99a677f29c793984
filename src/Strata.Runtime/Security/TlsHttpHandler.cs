using System.Security.Authentication;

namespace Strata.Runtime.Security;

/// <summary>
/// The HTTP handler of every gRPC channel the runtime opens: TLS as <see cref="TlsOptions"/> says for <c>https</c> URLs,
/// and a failed handshake reported as one sentence naming the server's URL instead of the TLS stack's nested exceptions.
/// </summary>
internal sealed class TlsHttpHandler : DelegatingHandler
{
    private TlsHttpHandler(SocketsHttpHandler inner)
        : base(inner)
    {
    }

    /// <summary>Wraps <paramref name="inner"/>, giving it <paramref name="tls"/>'s client side (null: the system trust store, no client certificate).</summary>
    public static HttpMessageHandler Create(SocketsHttpHandler inner, TlsOptions? tls)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (tls is not null)
        {
            inner.SslOptions = tls.ClientAuthentication(null);
        }

        return new TlsHttpHandler(inner);
    }

    /// <summary>
    /// One sentence for a failed handshake with <paramref name="server"/>: the server refused this client (a TLS alert, as a
    /// server requiring client certificates sends), or, otherwise, this client did not trust the server's certificate.
    /// </summary>
    public static string Describe(Uri server, AuthenticationException exception)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(exception);
        var url = server.GetLeftPart(UriPartial.Authority);
        var reason = exception.Message.TrimEnd('.');
        return exception.Message.Contains("alert", StringComparison.OrdinalIgnoreCase)
            ? $"The server at {url} refused the TLS handshake ({reason}); it requires a client certificate signed by a CA it trusts: give one with --tls-cert and --tls-key."
            : $"The TLS certificate of {url} was not trusted ({reason}); give the CA that signed it (--tls-ca), and check that the URL's host is one the certificate names.";
    }

    /// <summary>The first <see cref="AuthenticationException"/> in <paramref name="exception"/>'s inner exceptions, or null.</summary>
    public static AuthenticationException? FindAuthenticationFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException authentication)
            {
                return authentication;
            }
        }

        return null;
    }

    /// <inheritdoc/>
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException exception) when (request.RequestUri is { } uri && FindAuthenticationFailure(exception) is { } authentication)
        {
            throw new HttpRequestException(HttpRequestError.SecureConnectionError, Describe(uri, authentication), authentication);
        }
    }
}
