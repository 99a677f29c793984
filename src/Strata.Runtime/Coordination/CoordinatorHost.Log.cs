using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Coordination;

/// <content>The coordinator's log messages (source-generated).</content>
public sealed partial class CoordinatorHost
{
    internal static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "coordinator listening on {Address}; registry {Registry}; heartbeats every {HeartbeatSeconds} s, a server silent for {TimeoutSeconds} s is dropped")]
        public static partial void Started(ILogger logger, Uri address, string registry, double heartbeatSeconds, double timeoutSeconds);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "this coordinator runs without --join-token: anyone who can reach it can register block servers, and clients will route through them. Pass --join-token SECRET (and give it to your servers) unless every host on this network is yours.")]
        public static partial void NoJoinToken(ILogger logger);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "server {ServerId} joined at {Url}: blocks [{FirstBlock}, {EndBlock}) of {Model}, role {Role}")]
        public static partial void Joined(ILogger logger, string serverId, string url, int firstBlock, int endBlock, string model, string role);

        [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "server {ServerId} registered again at {Url}: blocks [{FirstBlock}, {EndBlock}) of {Model}")]
        public static partial void Renewed(ILogger logger, string serverId, string url, int firstBlock, int endBlock, string model);

        [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "server {ServerId} left (deregistered)")]
        public static partial void Deregistered(ILogger logger, string serverId);

        [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "server {ServerId} left without deregistering here: its lease expired (no heartbeat for {TimeoutSeconds} s), or it left through another coordinator")]
        public static partial void Expired(ILogger logger, string serverId, double timeoutSeconds);

        [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "placed {ServerId}: blocks [{FirstBlock}, {EndBlock}) of {Model} ({MaxBlocks} blocks wanted)")]
        public static partial void Placed(ILogger logger, string serverId, int firstBlock, int endBlock, string model, int maxBlocks);

        [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "QUARANTINE: server {ServerId} at {Url} gets no more routes ({Reports} report(s)): {Reason}")]
        public static partial void Quarantined(ILogger logger, string serverId, Uri url, int reports, string reason);

        [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "refused {Method} from {Peer}: the registry copy may be stale")]
        public static partial void RefusedStale(ILogger logger, string method, string peer);

        [LoggerMessage(EventId = 10, Level = LogLevel.Error, Message = "unexpected failure in {Method}")]
        public static partial void Unexpected(ILogger logger, Exception exception, string method);

        [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "route for blocks [{FirstBlock}, {EndBlock}) of {Model}: {Hops} hop(s), {SecondsPerToken:0.0000} s/token ({Routing})")]
        public static partial void Routed(ILogger logger, int firstBlock, int endBlock, string model, int hops, double secondsPerToken, string routing);

        [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "no route for blocks [{FirstBlock}, {EndBlock}) of {Model}: {Detail}")]
        public static partial void NoRoute(ILogger logger, int firstBlock, int endBlock, string model, string detail);

        [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "moving server {ServerId} from blocks [{FirstBlock}, {EndBlock}) to [{NewFirstBlock}, {NewEndBlock}) of {Model} ({Why})")]
        public static partial void Moved(ILogger logger, string serverId, int firstBlock, int endBlock, int newFirstBlock, int newEndBlock, string model, string why);

        [LoggerMessage(EventId = 15, Level = LogLevel.Debug, Message = "phase plan for blocks [{FirstBlock}, {EndBlock}) of {Model}: {Decision}, prefill {PrefillHops} hop(s), decode {DecodeHops} hop(s) ({Routing})")]
        public static partial void PhasePlanned(ILogger logger, int firstBlock, int endBlock, string model, Strata.Planning.Live.PhaseDecision decision, int prefillHops, int decodeHops, string routing);

        [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "coordinator stopping")]
        public static partial void Stopping(ILogger logger);
    }
}
