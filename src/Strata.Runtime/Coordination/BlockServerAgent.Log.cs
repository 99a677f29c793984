using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Coordination;

/// <content>The block-server agent's log messages (source-generated).</content>
public sealed partial class BlockServerAgent
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "registered as {ServerId} with the coordinator at {Coordinator}: blocks [{FirstBlock}, {EndBlock}), heartbeats every {HeartbeatSeconds} s")]
        public static partial void Registered(ILogger logger, string serverId, Uri coordinator, int firstBlock, int endBlock, double heartbeatSeconds);

        [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "the registry had dropped {ServerId}; registered again through the coordinator at {Coordinator}")]
        public static partial void RegisteredAgain(ILogger logger, string serverId, Uri coordinator);

        [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "heartbeat of {ServerId} failed at the coordinator at {Coordinator} ({StatusCode}: {Detail}); retrying every interval (logged once until one succeeds)")]
        public static partial void HeartbeatFailed(ILogger logger, string serverId, Uri coordinator, StatusCode statusCode, string detail);

        [LoggerMessage(EventId = 304, Level = LogLevel.Information, Message = "deregistered {ServerId} through the coordinator at {Coordinator} (entry existed: {Existed})")]
        public static partial void Deregistered(ILogger logger, string serverId, Uri coordinator, bool existed);

        [LoggerMessage(EventId = 305, Level = LogLevel.Warning, Message = "could not deregister {ServerId} ({StatusCode}: {Detail}); its entry expires with its lease")]
        public static partial void DeregistrationFailed(ILogger logger, string serverId, StatusCode statusCode, string detail);
    }
}
