using FsCheck;
using FsCheck.Fluent;
using Grpc.Core;
using Grpc.Net.Client;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;
using Strata.Runtime.Tests.Coordination;

namespace Strata.Runtime.Tests.Verification;

[Trait("Category", "Integration")]
public sealed class BlockServiceFuzzTests
{
    private static readonly StatusCode[] Refusals = [StatusCode.InvalidArgument, StatusCode.OutOfRange, StatusCode.FailedPrecondition, StatusCode.ResourceExhausted];

    [Fact]
    public async Task Forward_requests_with_arbitrary_ranges_positions_and_shapes_run_only_when_valid_and_are_otherwise_refused_precisely()
    {
        await using var server = await BlockServerHost.StartAsync(TestSwarm.Load(1, 2, head: false));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var client = new BlockServer.BlockServerClient(channel);
        var ints = Gen.OneOf(Gen.Choose(-3, 6), Gen.Elements(int.MinValue, int.MaxValue, int.MaxValue - 1, 1 << 30));
        Prop.ForAll(
            Gen.Zip(ints, ints).ToArbitrary(),
            Gen.Zip(Gen.Choose(0, 600), Gen.Choose(0, 4)).ToArbitrary(),
            Gen.Elements(64, 63, 0).ToArbitrary(),
            (range, positionAndRows, width) =>
            {
                var (first, count) = range;
                var (start, rows) = positionAndRows;
                var tensor = new Tensor { Dtype = DType.F32, Data = Google.Protobuf.ByteString.CopyFrom(new byte[rows * width * sizeof(float)]) };
                tensor.Shape.Add([rows, width]);
                var request = new ForwardRequest { SessionId = $"f{first}-{count}-{start}", FirstBlock = first, BlockCount = count, StartPosition = start % 3, Hidden = tensor };
                var valid = count >= 1 && first >= 1 && (long)first + count <= 3 && rows >= 1 && width == 64;
                try
                {
                    client.Forward(request);
                    client.CloseSession(new CloseSessionRequest { SessionId = request.SessionId });
                    return valid;
                }
                catch (RpcException exception)
                {
                    return Refusals.Contains(exception.StatusCode) && (!valid || exception.StatusCode != StatusCode.InvalidArgument);
                }
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public async Task Garbage_bytes_for_a_message_are_refused_with_a_status_and_the_server_keeps_serving()
    {
        await using var server = await BlockServerHost.StartAsync(TestSwarm.Load(0, 4, head: false));
        using var channel = GrpcChannel.ForAddress(server.Address);
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "strata.runtime.v1.BlockServer", "Forward",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var garbage = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(raw, null, new CallOptions(), [0xff, 0xff, 0xff, 0x0f, 0x01]).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, garbage.StatusCode);
        using var client = new BlockServerClient(server.Address);
        Assert.Equal(4, (await client.InfoAsync()).BlockCount);
    }
}
