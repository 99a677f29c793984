using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Strata.Runtime.Tests.Security;

/// <summary>
/// A private CA made in the test (ECDSA P-256, so every key takes microseconds) that issues leaf certificates for
/// <c>localhost</c> and <c>127.0.0.1</c>, each written as PEM files (certificate, key) to a temporary folder deleted on dispose.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly ECDsa _caKey;

    private TestCertificates(string name, string directory)
    {
        Directory = directory;
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        Authority = request.CreateSelfSigned(now.AddDays(-10), now.AddDays(10));
        AuthorityFile = Path.Combine(directory, $"{name}.ca.pem");
        File.WriteAllText(AuthorityFile, Authority.ExportCertificatePem());
    }

    /// <summary>The folder holding every PEM file.</summary>
    public string Directory { get; }

    /// <summary>The CA's certificate (with its key).</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>The CA's certificate as a PEM bundle of one.</summary>
    public string AuthorityFile { get; }

    /// <summary>A new CA named <paramref name="name"/> in a new temporary folder.</summary>
    public static TestCertificates Create(string name = "strata-test-ca")
    {
        var directory = Path.Combine(Path.GetTempPath(), $"strata-tls-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        return new TestCertificates(name, directory);
    }

    /// <summary>
    /// A leaf certificate for <paramref name="dnsName"/> and 127.0.0.1, good for servers and clients alike, written as
    /// <c>NAME.pem</c> and <c>NAME.key</c>; valid from <paramref name="notBefore"/> to <paramref name="notAfter"/> (default a day either side of now).
    /// </summary>
    public (string CertificateFile, string KeyFile) Issue(string name, string dnsName = "localhost", DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // serverAuth, clientAuth
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Authority, true, false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(8);
        serial[0] &= 0x7F; // positive, as RFC 5280 asks
        using var certificate = request.Create(Authority, notBefore ?? now.AddDays(-1), notAfter ?? now.AddDays(1), serial);
        var certificateFile = Path.Combine(Directory, $"{name}.pem");
        var keyFile = Path.Combine(Directory, $"{name}.key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certificateFile, keyFile);
    }

    public void Dispose()
    {
        Authority.Dispose();
        _caKey.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open elsewhere: the temporary folder is cleaned by the system.
        }
    }
}
