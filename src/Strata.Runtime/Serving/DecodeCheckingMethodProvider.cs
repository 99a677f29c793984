using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Serving;

/// <summary>
/// Binds the block server's methods with request decoders that turn bytes that are not the message into
/// INVALID_ARGUMENT (a bad request) instead of UNKNOWN ("Exception was thrown by handler", which clients treat as a
/// server failure).
/// </summary>
/// <remarks>
/// A gRPC <c>Interceptor</c> cannot do this: ASP.NET Core gRPC decodes the request before the interceptor pipeline
/// runs, so a decoding failure never reaches one. The decoder is the one place that sees it. This provider replaces
/// the default binder for <see cref="BlockServerService"/> (see <see cref="BlockServerHost"/>).
/// </remarks>
internal sealed class DecodeCheckingMethodProvider : IServiceMethodProvider<BlockServerService>
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<BlockServerService> context) =>
        BlockServer.BindService(new Binder(context), null);

    private static Method<TRequest, TResponse> Checked<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        var decode = method.RequestMarshaller.ContextualDeserializer;
        var marshaller = Marshallers.Create(method.RequestMarshaller.ContextualSerializer, context =>
        {
            try
            {
                return decode(context);
            }
            catch (InvalidProtocolBufferException exception)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"The request is not a valid {typeof(TRequest).Name} message ({exception.Message}); send protobuf-encoded {method.FullName} requests."));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
    }

    private static TDelegate Handler<TDelegate>(string name)
        where TDelegate : Delegate =>
        (TDelegate)Delegate.CreateDelegate(typeof(TDelegate), typeof(BlockServerService).GetMethod(name)
            ?? throw new InvalidOperationException($"BlockServerService has no method {name}."));

    private sealed class Binder(ServiceMethodProviderContext<BlockServerService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Checked(method), [], Handler<UnaryServerMethod<BlockServerService, TRequest, TResponse>>(method.Name));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Checked(method), [], Handler<ServerStreamingServerMethod<BlockServerService, TRequest, TResponse>>(method.Name));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Checked(method), [], Handler<ClientStreamingServerMethod<BlockServerService, TRequest, TResponse>>(method.Name));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Checked(method), [], Handler<DuplexStreamingServerMethod<BlockServerService, TRequest, TResponse>>(method.Name));
    }
}
