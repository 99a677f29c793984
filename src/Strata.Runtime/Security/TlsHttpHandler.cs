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

    /// <summary>
    /// Whether <paramref name="exception"/> says that an https server closed the connection once the TLS handshake was
    /// done and before HTTP/2 began: what a client sees under TLS 1.3 when the server refused its client certificate
    /// (the client's side of the handshake ends first, the server's verdict comes as the connection closing).
    /// </summary>
    /// <remarks>
    /// SocketsHttpHandler reports this in several shapes (HttpRequestException, HttpIOException or IOException, with
    /// varying error codes, depending on where the close lands); the one thing they share is the sentence
    /// "An HTTP/2 connection could not be established", so that is what is matched. Only the wording of the error depends on it.
    /// </remarks>
    public static bool IsClosedAfterHandshake(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e.Message.Contains("HTTP/2 connection could not be established", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
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
            throw new TlsFailureException(Describe(uri, authentication), authentication);
        }
        catch (HttpRequestException exception) when (request.RequestUri is { Scheme: "https" } uri && IsClosedAfterHandshake(exception))
        {
            throw new TlsFailureException(
                $"The server at {uri.GetLeftPart(UriPartial.Authority)} closed the connection right after the TLS handshake: it requires a client certificate signed by a CA it trusts (give one with --tls-cert and --tls-key), or it does not serve HTTP/2 there.",
                exception);
        }
    }
}

/// <summary>A TLS handshake with a server failed or was refused; the message is one sentence naming the server's URL.</summary>
internal sealed class TlsFailureException(string message, Exception inner) : HttpRequestException(HttpRequestError.SecureConnectionError, message, inner);
