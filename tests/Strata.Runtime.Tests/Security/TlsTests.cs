using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Gateway;
using Strata.Runtime.Protocol;
using Strata.Runtime.Security;
using Strata.Runtime.Serving;
using Strata.Runtime.Tests.Coordination;
using Strata.Runtime.Tokenization;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Security;

/// <summary>Real servers on 127.0.0.1 with certificates made in the test: TLS, mutual TLS, the bulk KV path over TLS, and the errors of untrusted peers.</summary>
[Trait("Category", "Integration")]
public sealed class TlsTests : IDisposable
{
    private static readonly int[] Prompt = [84, 104, 101, 32, 113, 117, 105, 99, 107];

    private static readonly GenerationOptions Greedy = new() { MaxNewTokens = 12 };

    private readonly TestCertificates _pki = TestCertificates.Create();

    private readonly TestCertificates _otherPki = TestCertificates.Create("other-ca");

    public void Dispose()
    {
        _pki.Dispose();
        _otherPki.Dispose();
    }

    // A process's settings: its own certificate, trusting this test's CA for servers and (mutual) for clients.
    private TlsOptions Node(string name, bool mutual = true)
    {
        var (certificate, key) = _pki.Issue(name);
        return new TlsOptions
        {
            Certificate = TlsCertificates.Load(certificate, key),
            TrustedAuthorities = TlsCertificates.LoadAuthorities(_pki.AuthorityFile),
            ClientAuthorities = mutual ? TlsCertificates.LoadAuthorities(_pki.AuthorityFile) : null,
        };
    }

    private TlsOptions ClientOnly(bool withCertificate) => Node("client") with { Certificate = withCertificate ? Node("client").Certificate : null, ClientAuthorities = null };

    private static async Task<IReadOnlyList<int>> LocalTokensAsync()
    {
        var model = TestModels.Tiny();
        return (await new TextGenerator(model, new LocalBlockChain(model)).GenerateAsync(Prompt, Greedy)).Tokens;
    }

    private static async Task<(BlockServerHost Host, BlockServerAgent Agent)> ServeAsync(
        CoordinatorClient coordinator, TlsOptions tls, int firstBlock, int blockCount, string id, ServerRole role = ServerRole.Both)
    {
        var model = TestSwarm.Load(firstBlock, blockCount, head: false);
        var host = await BlockServerHost.StartAsync(model, tls: tls);
        var agent = await BlockServerAgent.StartAsync(host, coordinator, model.Config.Architecture.Name, model.Config.LayerCount,
            new BlockServerAgentOptions { ServerId = id, Role = role });
        return (host, agent);
    }

    private static async Task StopAsync(params (BlockServerHost Host, BlockServerAgent Agent)[] servers)
    {
        foreach (var (host, agent) in servers)
        {
            await agent.DisposeAsync();
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task Coordinator_and_two_block_servers_over_mutual_tls_give_exactly_the_local_greedy_tokens()
    {
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { Tls = Node("coordinator") });
        Assert.Equal(Uri.UriSchemeHttps, coordinator.Address.Scheme);
        var serverTls = Node("server");
        using var serversClient = new CoordinatorClient(coordinator.Address, tls: serverTls); // servers present their own certificate
        var first = await ServeAsync(serversClient, serverTls, 0, 2, "s1");
        var second = await ServeAsync(serversClient, serverTls, 2, 2, "s2");
        try
        {
            using var client = new CoordinatorClient(coordinator.Address, tls: ClientOnly(withCertificate: true));
            var head = TestSwarm.Load(0, 0, head: true);
            using var chain = new CoordinatedBlockChain(client, head);
            var result = await new TextGenerator(head, chain).GenerateAsync(Prompt, Greedy);
            Assert.Equal(await LocalTokensAsync(), result.Tokens);
            Assert.Equal([first.Host.Address.ToString(), second.Host.Address.ToString()], result.Route.Select(h => h.Server));
            Assert.All(result.Route, hop => Assert.StartsWith("https://", hop.Server, StringComparison.Ordinal));
            Assert.Equal(0, chain.Failovers);
        }
        finally
        {
            await StopAsync(first, second);
        }
    }

    [Fact]
    public async Task Phase_split_over_mutual_tls_moves_the_kv_caches_and_gives_exactly_the_local_greedy_tokens()
    {
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { Tls = Node("coordinator") });
        var serverTls = Node("server");
        using var serversClient = new CoordinatorClient(coordinator.Address, tls: serverTls);
        var prefill = await ServeAsync(serversClient, serverTls, 0, 4, "p1", ServerRole.Prefill);
        var decode = await ServeAsync(serversClient, serverTls, 0, 4, "d1", ServerRole.Decode);
        try
        {
            using var client = new CoordinatorClient(coordinator.Address, tls: ClientOnly(withCertificate: true));
            var head = TestSwarm.Load(0, 0, head: true);
            using var chain = new CoordinatedBlockChain(client, head, new CoordinatedChainOptions { PhaseSplit = true, StreamKvByBlock = false });
            var result = await new TextGenerator(head, chain).GenerateAsync(Prompt, Greedy);
            Assert.Equal(await LocalTokensAsync(), result.Tokens);
            Assert.Equal([decode.Host.Address.ToString()], result.Route.Select(h => h.Server));
            Assert.Equal(1, chain.KvMoves); // p1 [0, 4) -> d1
            Assert.Equal(1, prefill.Host.BulkKvSent); // over the bulk path (TLS both ends), not streamed through the client
            Assert.Equal(0, chain.Failovers);
            Assert.Equal(0, prefill.Host.SessionCount);
        }
        finally
        {
            await StopAsync(prefill, decode);
        }
    }

    [Fact]
    public async Task A_bulk_kv_pull_between_mutual_tls_servers_runs_over_tls_and_lands_a_bit_identical_cache()
    {
        var model = TestModels.TinyBlocks();
        var layers = model.Config.LayerCount;
        await using var source = await BlockServerHost.StartAsync(model, tls: Node("source"));
        await using var destination = await BlockServerHost.StartAsync(model, tls: Node("destination"));
        var clientTls = ClientOnly(withCertificate: true);
        using var sourceClient = new BlockServerClient(source.Address, tls: clientTls);
        using var destinationClient = new BlockServerClient(destination.Address, tls: clientTls);
        var tokens = 24;
        var hidden = TestModels.Tiny().Embed([.. Enumerable.Range(0, tokens).Select(i => 32 + (i * 7 % 90))]);
        await sourceClient.ForwardAsync("s", 0, layers, 0, hidden.ToArray(), tokens, model.Config.HiddenSize);

        var offer = await Grpc(source, clientTls).OfferKvAsync(new OfferKvRequest { SessionId = "s", FirstBlock = 0, BlockCount = layers });
        Assert.True(offer.Tls);
        var pulled = await Grpc(destination, clientTls).PullKvAsync(new PullKvRequest { DestinationSessionId = "d", SourceHost = "127.0.0.1", Offer = offer });
        Assert.Equal(layers, pulled.BlockCount);
        Assert.Equal(1, source.BulkKvSent);
        var expected = await sourceClient.ExportKvAsync("s", 0, layers);
        var actual = await destinationClient.ExportKvAsync("d", 0, layers);
        Assert.Equal(expected.Select(b => (b.BlockIndex, b.TokenCount)), actual.Select(b => (b.BlockIndex, b.TokenCount)));
        for (var i = 0; i < layers; i++)
        {
            Assert.Equal(expected[i].Keys, actual[i].Keys);
            Assert.Equal(expected[i].Values, actual[i].Values);
        }

        // The same ticket, stripped of its TLS flag by a client, is refused: a TLS server never pulls in the clear.
        var again = await Grpc(source, clientTls).OfferKvAsync(new OfferKvRequest { SessionId = "s", FirstBlock = 0, BlockCount = layers });
        again.Tls = false;
        var refused = await Assert.ThrowsAsync<RpcException>(() => Grpc(destination, clientTls).PullKvAsync(
            new PullKvRequest { DestinationSessionId = "d2", SourceHost = "127.0.0.1", Offer = again }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("only over TLS", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bulk_source_requiring_client_certificates_refuses_a_puller_whose_certificate_another_ca_signed()
    {
        var model = TestModels.TinyBlocks();
        var layers = model.Config.LayerCount;
        await using var source = await BlockServerHost.StartAsync(model, tls: Node("source"));
        var (otherCertificate, otherKey) = _otherPki.Issue("stranger");
        var strangerTls = new TlsOptions
        {
            Certificate = TlsCertificates.Load(otherCertificate, otherKey),
            TrustedAuthorities = TlsCertificates.LoadAuthorities(_pki.AuthorityFile), // it trusts the source; the source does not trust it
        };
        await using var stranger = await BlockServerHost.StartAsync(model, tls: strangerTls);
        var clientTls = ClientOnly(withCertificate: true);
        using var sourceClient = new BlockServerClient(source.Address, tls: clientTls);
        var hidden = TestModels.Tiny().Embed([1, 2, 3, 4]);
        await sourceClient.ForwardAsync("s", 0, layers, 0, hidden.ToArray(), 4, model.Config.HiddenSize);
        var offer = await Grpc(source, clientTls).OfferKvAsync(new OfferKvRequest { SessionId = "s", FirstBlock = 0, BlockCount = layers });

        var strangerClient = new TlsOptions { TrustedAuthorities = TlsCertificates.LoadAuthorities(_otherPki.AuthorityFile) };
        var refused = await Assert.ThrowsAsync<RpcException>(() => Grpc(stranger, strangerClient).PullKvAsync(
            new PullKvRequest { DestinationSessionId = "d", SourceHost = "127.0.0.1", Offer = offer }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("certificate", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, stranger.KvBytes);
        Assert.Equal(0, source.BulkKvSent);
    }

    [Fact]
    public async Task A_client_trusting_another_ca_fails_saying_the_certificate_was_not_trusted_and_naming_the_url()
    {
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { Tls = Node("coordinator", mutual: false) });
        using var client = new CoordinatorClient(coordinator.Address, tls: new TlsOptions { TrustedAuthorities = TlsCertificates.LoadAuthorities(_otherPki.AuthorityFile) });
        var failure = await Assert.ThrowsAsync<RpcException>(() => client.ListServersAsync());
        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.StartsWith($"The TLS certificate of https://{coordinator.Address.Authority} was not trusted", failure.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Error starting gRPC call", failure.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', failure.Status.Detail);

        // A block server's client says the same through its HTTP handler.
        await using var server = await BlockServerHost.StartAsync(TestModels.TinyBlocks(), tls: Node("server", mutual: false));
        using var serverClient = new BlockServerClient(server.Address, tls: new TlsOptions { TrustedAuthorities = TlsCertificates.LoadAuthorities(_otherPki.AuthorityFile) });
        var serverFailure = await Assert.ThrowsAsync<RpcException>(() => serverClient.InfoAsync());
        Assert.Contains($"The TLS certificate of https://{server.Address.Authority} was not trusted", serverFailure.Status.Detail, StringComparison.Ordinal);

        // The right CA works, and so does a host name the certificate names (localhost) but not one it does not.
        using var trusting = new CoordinatorClient(coordinator.Address, tls: new TlsOptions { TrustedAuthorities = TlsCertificates.LoadAuthorities(_pki.AuthorityFile) });
        Assert.Empty(await trusting.ListServersAsync());
        using var byName = new CoordinatorClient(new UriBuilder(coordinator.Address) { Host = "localhost" }.Uri, tls: trusting.Tls);
        Assert.Empty(await byName.ListServersAsync());
    }

    [Fact]
    public async Task A_certificate_for_another_host_name_is_not_trusted_even_when_its_ca_is()
    {
        var (certificate, key) = _pki.Issue("elsewhere", dnsName: "elsewhere.example");
        var tls = new TlsOptions { Certificate = TlsCertificates.Load(certificate, key) };
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { Tls = tls });

        // The certificate names 127.0.0.1 too (every test leaf does), so reach it by a name it does not hold.
        using var client = new CoordinatorClient(new UriBuilder(coordinator.Address) { Host = "localhost" }.Uri,
            tls: new TlsOptions { TrustedAuthorities = TlsCertificates.LoadAuthorities(_pki.AuthorityFile) });
        var failure = await Assert.ThrowsAsync<RpcException>(() => client.ListServersAsync());
        Assert.Contains("was not trusted", failure.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("RemoteCertificateNameMismatch", failure.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_client_ca_a_client_without_a_trusted_certificate_is_refused_and_one_with_it_is_served()
    {
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { Tls = Node("coordinator") });

        using var anonymous = new CoordinatorClient(coordinator.Address, tls: ClientOnly(withCertificate: false));
        var refused = await Assert.ThrowsAsync<RpcException>(() => anonymous.ListServersAsync());
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.StartsWith($"The server at https://{coordinator.Address.Authority} ", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("requires a client certificate signed by a CA it trusts", refused.Status.Detail, StringComparison.Ordinal);

        var (otherCertificate, otherKey) = _otherPki.Issue("stranger");
        using var stranger = new CoordinatorClient(coordinator.Address, tls: ClientOnly(withCertificate: false) with { Certificate = TlsCertificates.Load(otherCertificate, otherKey) });
        var strangerRefused = await Assert.ThrowsAsync<RpcException>(() => stranger.ListServersAsync());
        Assert.Equal(StatusCode.Unavailable, strangerRefused.StatusCode);
        Assert.Contains("requires a client certificate signed by a CA it trusts", strangerRefused.Status.Detail, StringComparison.Ordinal);

        using var member = new CoordinatorClient(coordinator.Address, tls: ClientOnly(withCertificate: true));
        Assert.Empty(await member.ListServersAsync());
    }

    [Fact]
    public async Task A_gateway_over_https_answers_v1_models_over_http1_and_http2()
    {
        var model = TestModels.Tiny();
        var directory = TestModels.TinyDirectory();
        var tokenizer = TokenizerLoader.Load(directory, ModelFolder.LoadConfig(directory));
        var backend = new ChainCompletionBackend(model, tokenizer, () => new LocalBlockChain(model), "tiny");
        await using var gateway = await GatewayHost.StartAsync([backend], options: new GatewayOptions { Tls = Node("gateway", mutual: false) });
        Assert.Equal(Uri.UriSchemeHttps, gateway.Address.Scheme);

        using var http = new HttpClient(TlsHttpHandler.Create(new SocketsHttpHandler(), ClientOnly(withCertificate: false))) { BaseAddress = gateway.Address };
        foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models") { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(version, response.Version);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("tiny", body.GetProperty("data")[0].GetProperty("id").GetString());
        }

        // Cleartext HTTP to the TLS port gets no answer.
        using var cleartext = new HttpClient { BaseAddress = new UriBuilder(gateway.Address) { Scheme = Uri.UriSchemeHttp }.Uri };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => cleartext.GetAsync("/v1/models"));
    }

    private static BlockServer.BlockServerClient Grpc(BlockServerHost host, TlsOptions tls) =>
        new(GrpcChannel.ForAddress(host.Address, new GrpcChannelOptions { HttpHandler = TlsHttpHandler.Create(new SocketsHttpHandler(), tls) }));
}
