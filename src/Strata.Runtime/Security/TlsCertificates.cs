using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Strata.Core;

namespace Strata.Runtime.Security;

/// <summary>Loads the PEM files of <see cref="TlsOptions"/>, failing with one sentence that names the file and what is wrong with it.</summary>
public static class TlsCertificates
{
    /// <summary>
    /// The certificate in <paramref name="certificateFile"/> (its first certificate; intermediates after it are ignored)
    /// with the private key in <paramref name="keyFile"/> (unencrypted PKCS#8, PKCS#1 or SEC1 PEM), valid at <paramref name="timeProvider"/>'s now.
    /// </summary>
    /// <exception cref="StrataException">A file is missing or unreadable, holds no PEM certificate or key, the key does not
    /// match the certificate, or the certificate is expired or not yet valid.</exception>
    public static X509Certificate2 Load(string certificateFile, string keyFile, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(certificateFile);
        ArgumentNullException.ThrowIfNull(keyFile);
        var certificateText = ReadText(certificateFile, "TLS certificate");
        var keyText = ReadText(keyFile, "TLS private key");
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(certificateText);
        }
        catch (CryptographicException exception)
        {
            throw new StrataException($"The TLS certificate file '{certificateFile}' holds no readable PEM certificate (-----BEGIN CERTIFICATE-----): {exception.Message}");
        }

        using (certificate)
        {
            var now = (timeProvider ?? TimeProvider.System).GetUtcNow().UtcDateTime;
            if (certificate.NotAfter.ToUniversalTime() < now)
            {
                throw new StrataException($"The TLS certificate in '{certificateFile}' ({certificate.Subject}) expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; issue a new one.");
            }

            if (certificate.NotBefore.ToUniversalTime() > now)
            {
                throw new StrataException($"The TLS certificate in '{certificateFile}' ({certificate.Subject}) is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} UTC; check this machine's clock.");
            }

            var withKey = WithKey(certificate, keyText, certificateFile, keyFile);

            // Windows' TLS stack cannot use an ephemeral (PEM-imported) key; a PKCS#12 round trip gives it a persisted one.
            if (OperatingSystem.IsWindows())
            {
                using (withKey)
                {
                    return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
                }
            }

            return withKey;
        }
    }

    /// <summary>The certificates of a PEM bundle of certificate authorities (<c>--tls-ca</c>, <c>--tls-client-ca</c>).</summary>
    /// <exception cref="StrataException">The file is missing or unreadable, or holds no PEM certificate.</exception>
    public static X509Certificate2Collection LoadAuthorities(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var text = ReadText(file, "CA bundle");
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPem(text);
        }
        catch (CryptographicException exception)
        {
            throw new StrataException($"The CA bundle '{file}' holds a certificate that cannot be read: {exception.Message}");
        }

        return authorities.Count > 0
            ? authorities
            : throw new StrataException($"The CA bundle '{file}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
    }

    private static string ReadText(string file, string what)
    {
        try
        {
            return File.ReadAllText(file);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new StrataException($"The {what} file '{file}' does not exist.");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new StrataException($"The {what} file '{file}' cannot be read: {exception.Message}");
        }
    }

    private static X509Certificate2 WithKey(X509Certificate2 certificate, string keyText, string certificateFile, string keyFile)
    {
        if (keyText.Contains("ENCRYPTED", StringComparison.Ordinal))
        {
            throw new StrataException($"The TLS private key file '{keyFile}' is encrypted; give it unencrypted (openssl pkey -in KEY -out PLAIN) and protect it with file permissions.");
        }

        AsymmetricAlgorithm key = certificate.GetKeyAlgorithm() switch
        {
            "1.2.840.113549.1.1.1" => RSA.Create(),
            "1.2.840.10045.2.1" => ECDsa.Create(),
            var oid => throw new StrataException($"The TLS certificate in '{certificateFile}' has a key of algorithm {oid}; use an RSA or ECDSA certificate."),
        };
        using (key)
        {
            try
            {
                key.ImportFromPem(keyText);
            }
            catch (Exception exception) when (exception is ArgumentException or CryptographicException)
            {
                throw new StrataException($"The TLS private key file '{keyFile}' holds no readable {(key is RSA ? "RSA" : "ECDSA")} PEM private key (the certificate's kind): {exception.Message}");
            }

            try
            {
                return key is RSA rsa ? certificate.CopyWithPrivateKey(rsa) : certificate.CopyWithPrivateKey((ECDsa)key);
            }
            catch (Exception exception) when (exception is ArgumentException or CryptographicException)
            {
                throw new StrataException($"The TLS private key in '{keyFile}' does not match the certificate in '{certificateFile}'; give the key the certificate was issued for.");
            }
        }
    }
}
