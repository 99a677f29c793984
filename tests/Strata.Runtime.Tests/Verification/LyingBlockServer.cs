using System.Collections.Concurrent;
using System.Net;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Strata.Runtime.Coordination;
using Strata.Runtime.Engine;
using Strata.Runtime.Protocol;
using Strata.Runtime.Sampling;

namespace Strata.Runtime.Tests.Verification;

/// <summary>How a lying block server answers a forward step.</summary>
public enum Lie
{
    Honest,
    NaN,
    Infinity,
    Zeros,
    Huge,
    Random,
    Echo,
    Perturb,
}

/// <summary>
/// An in-process block server that speaks the real protocol but lies in its replies: it runs the real blocks (so its
/// KV caches and shapes are right) and then replaces the output as <see cref="Lie"/> says.
/// </summary>
internal sealed class LyingBlockServer : BlockServer.BlockServerBase
{
    private readonly LlamaModel _model;
    private readonly Lie _lie;
    private readonly DeterministicRandom _random = new(7);
    private readonly ConcurrentDictionary<string, InferenceSession> _sessions = new(StringComparer.Ordinal);

    public LyingBlockServer(LlamaModel model, Lie lie)
    {
        _model = model;
        _lie = lie;
    }

    public int Steps;

    public int OpenSessions => _sessions.Count;

    public override Task<InfoReply> Info(InfoRequest request, ServerCallContext context) => Task.FromResult(new InfoReply
    {
        ModelName = _model.Config.Architecture.Name,
        HiddenSize = _model.Config.HiddenSize,
        LayerCount = _model.Config.LayerCount,
        FirstBlock = _model.Weights.Blocks.First,
        BlockCount = _model.Weights.Blocks.Count,
        KeyValueDimension = _model.Config.KeyValueDimension,
    });

    public override Task<ForwardReply> Forward(ForwardRequest request, ServerCallContext context)
    {
        Interlocked.Increment(ref Steps);
        var width = _model.Config.HiddenSize;
        var tokens = (int)request.Hidden.Shape[0];
        var input = MemoryMarshal.Cast<byte, float>(request.Hidden.Data.Span).ToArray();
        var hidden = (float[])input.Clone();
        var session = _sessions.GetOrAdd(request.SessionId, _ => _model.CreateSession());
        lock (session)
        {
            session.Truncate(request.StartPosition);
            _model.ForwardBlocks(session, request.FirstBlock, request.BlockCount, hidden, tokens);
        }

        for (var i = 0; i < hidden.Length; i++)
        {
            hidden[i] = _lie switch
            {
                Lie.NaN => float.NaN,
                Lie.Infinity => i % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity,
                Lie.Zeros => 0,
                Lie.Huge => 3e38f,
                Lie.Random => _random.NextSymmetric(1000),
                Lie.Echo => input[i],
                Lie.Perturb => hidden[i] * 1.01f,
                _ => hidden[i],
            };
        }

        var tensor = new Tensor { Dtype = DType.F32, Data = ByteString.CopyFrom(MemoryMarshal.AsBytes(hidden.AsSpan())) };
        tensor.Shape.Add([tokens, width]);
        return Task.FromResult(new ForwardReply { Hidden = tensor, CachedTokens = request.StartPosition + tokens });
    }

    public override Task<CloseSessionReply> CloseSession(CloseSessionRequest request, ServerCallContext context) =>
        Task.FromResult(new CloseSessionReply { Existed = _sessions.TryRemove(request.SessionId, out _) });

    /// <summary>A running lying server on loopback, registered with a coordinator as the fastest server of its blocks.</summary>
    public sealed class Host : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Host(WebApplication app, LyingBlockServer server, Uri address)
        {
            _app = app;
            Server = server;
            Address = address;
        }

        public LyingBlockServer Server { get; }

        public Uri Address { get; }

        public static async Task<Host> StartAsync(LlamaModel model, Lie lie)
        {
            var server = new LyingBlockServer(model, lie);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(server);
            var app = builder.Build();
            app.MapGrpcService<LyingBlockServer>();
            await app.StartAsync();
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new Host(app, server, new Uri(bound));
        }

        /// <summary>Registers with the coordinator claiming to be far faster than anyone else.</summary>
        public async Task<string> RegisterAsync(CoordinatorClient coordinator, string id, double decodeSecondsPerBlock = 1e-9)
        {
            var model = Server._model;
            var reply = await coordinator.RegisterAsync(new RegisterRequest
            {
                ServerId = id,
                Url = Address.ToString(),
                ModelName = model.Config.Architecture.Name,
                LayerCount = model.Config.LayerCount,
                FirstBlock = model.Weights.Blocks.First,
                BlockCount = model.Weights.Blocks.Count,
                Role = ServerRole.Both,
                FreeKvBytes = 1L << 40,
                DecodeSecondsPerBlock = decodeSecondsPerBlock,
            });
            return reply.ServerSecret;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
