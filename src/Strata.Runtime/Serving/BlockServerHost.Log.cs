using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Serving;

/// <content>The block server's log messages (source-generated).</content>
public sealed partial class BlockServerHost
{
    internal static partial class Log
    {
        [LoggerMessage(EventId = 401, Level = LogLevel.Debug, Message = "block server listening on {Address}: blocks [{FirstBlock}, {EndBlock}) of {Model}; at most {MaxSessions} sessions and {MaxKvBytes} KV bytes; bulk KV port {BulkPort}")]
        public static partial void Started(ILogger logger, Uri address, int firstBlock, int endBlock, string model, int maxSessions, long maxKvBytes, int bulkPort);

        [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "refused {Method} from {Peer}: {Detail}")]
        public static partial void Refused(ILogger logger, string method, string peer, string detail);

        [LoggerMessage(EventId = 403, Level = LogLevel.Error, Message = "{Method} from {Peer} failed unexpectedly")]
        public static partial void Failed(ILogger logger, Exception exception, string method, string peer);

        [LoggerMessage(EventId = 404, Level = LogLevel.Debug, Message = "rejected {Method} from {Peer} ({StatusCode}): {Detail}")]
        public static partial void Rejected(ILogger logger, string method, string peer, StatusCode statusCode, string detail);

        [LoggerMessage(EventId = 405, Level = LogLevel.Information, Message = "evicted {Sessions} session(s) idle for more than {IdleSeconds} s")]
        public static partial void Evicted(ILogger logger, int sessions, double idleSeconds);

        [LoggerMessage(EventId = 406, Level = LogLevel.Debug, Message = "block server stopping with {Sessions} session(s) held")]
        public static partial void Stopping(ILogger logger, int sessions);
    }
}
