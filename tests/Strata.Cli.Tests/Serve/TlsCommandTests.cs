using Strata.Runtime.Coordination;
using Strata.Runtime.Security;
using Strata.Runtime.Tests.Security;

namespace Strata.Cli.Tests.Serve;

/// <summary>The TLS flags: every bad certificate file is one line naming it, and a client that does not trust the server says so naming its URL.</summary>
public sealed class TlsCommandTests : IDisposable
{
    private readonly TestCertificates _pki = TestCertificates.Create();
    private readonly List<string> _directories = [];

    public void Dispose()
    {
        _pki.Dispose();
        foreach (var directory in _directories.Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string[] Coordinator(params string[] tls) => ["serve", "coordinator", "--port", "0", .. tls];

    [Fact]
    public void A_missing_certificate_file_is_one_line_naming_the_flag_and_the_file()
    {
        var missing = Path.Combine(_pki.Directory, "missing.pem");
        var (_, key) = _pki.Issue("server");
        CliRun.Of(Coordinator("--tls-cert", missing, "--tls-key", key)).ShouldFailCleanly("--tls-cert", missing, "does not exist");
    }

    [Fact]
    public void A_missing_key_file_is_one_line_naming_the_file()
    {
        var (certificate, _) = _pki.Issue("server");
        var missing = Path.Combine(_pki.Directory, "missing.key");
        CliRun.Of(Coordinator("--tls-cert", certificate, "--tls-key", missing)).ShouldFailCleanly(missing, "does not exist");
    }

    [Fact]
    public void A_key_that_does_not_match_the_certificate_is_one_line_naming_both_files()
    {
        var (certificate, _) = _pki.Issue("server");
        var (_, otherKey) = _pki.Issue("other");
        CliRun.Of(Coordinator("--tls-cert", certificate, "--tls-key", otherKey)).ShouldFailCleanly("does not match", certificate, otherKey);
    }

    [Fact]
    public void An_expired_certificate_is_one_line_naming_the_file_and_the_date()
    {
        var now = DateTimeOffset.UtcNow;
        var (certificate, key) = _pki.Issue("expired", notBefore: now.AddDays(-5), notAfter: now.AddDays(-1));
        CliRun.Of(Coordinator("--tls-cert", certificate, "--tls-key", key)).ShouldFailCleanly("expired on", certificate);
    }

    [Fact]
    public void A_file_that_is_not_a_certificate_is_one_line_naming_it()
    {
        var (_, key) = _pki.Issue("server");
        CliRun.Of(Coordinator("--tls-cert", key, "--tls-key", key)).ShouldFailCleanly(key, "no readable PEM certificate");
        CliRun.Of(["generate", "--coordinator", "https://127.0.0.1:1", "--model", _pki.Directory, "--prompt", "hi", "--tls-ca", key])
            .ShouldFailCleanly("--tls-ca", key, "no PEM certificate");
    }

    [Fact]
    public void A_certificate_without_its_key_or_a_client_ca_without_a_certificate_is_one_line_naming_the_missing_flag()
    {
        var (certificate, _) = _pki.Issue("server");
        CliRun.Of(Coordinator("--tls-cert", certificate)).ShouldFailCleanly("--tls-key is missing");
        CliRun.Of(Coordinator("--tls-client-ca", _pki.AuthorityFile)).ShouldFailCleanly("--tls-client-ca", "--tls-cert is missing");
    }

    [Fact]
    public void Every_serve_command_offers_the_server_flags_and_generate_the_client_flags()
    {
        foreach (var serve in new[] { "coordinator", "block", "gateway" })
        {
            var help = CliRun.Of("serve", serve, "--help").Output;
            Assert.Contains("--tls-cert", help, StringComparison.Ordinal);
            Assert.Contains("--tls-key", help, StringComparison.Ordinal);
            Assert.Contains("--tls-client-ca", help, StringComparison.Ordinal);
        }

        foreach (var serve in new[] { "coordinator", "block" })
        {
            Assert.Contains("cleartext even with --tls-cert", CliRun.Of("serve", serve, "--help").Output, StringComparison.Ordinal); // the metrics port
        }

        Assert.Contains("--tls-ca", CliRun.Of("serve", "block", "--help").Output, StringComparison.Ordinal);
        foreach (var client in new[] { "generate", "predict" })
        {
            var help = CliRun.Of(client, "--help").Output;
            Assert.Contains("--tls-ca", help, StringComparison.Ordinal);
            Assert.Contains("--tls-cert", help, StringComparison.Ordinal);
            Assert.DoesNotContain("--tls-client-ca", help, StringComparison.Ordinal);
        }
    }

    [Fact]
    [Trait("Category", "Integration")]
    public async Task Generate_against_a_coordinator_signed_by_another_ca_fails_in_one_line_saying_not_trusted_and_naming_the_url()
    {
        var model = Path.Combine(Path.GetTempPath(), $"strata-cli-tls-model-{Guid.NewGuid():N}");
        _directories.Add(model);
        CliRun.Of("model", "init", "--preset", "tiny", "--out", model).ShouldSucceed();
        var (certificate, key) = _pki.Issue("coordinator");
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { Tls = new TlsOptions { Certificate = TlsCertificates.Load(certificate, key) } });
        using var other = TestCertificates.Create("other-ca");

        var line = CliRun.Of("generate", "--coordinator", coordinator.Address.ToString(), "--tls-ca", other.AuthorityFile, "--model", model, "--prompt", "hi", "--max-tokens", "2")
            .ShouldFailCleanly("was not trusted", $"https://{coordinator.Address.Authority}", "--tls-ca");
        Assert.DoesNotContain("Error starting gRPC call", line, StringComparison.Ordinal);
    }
}
