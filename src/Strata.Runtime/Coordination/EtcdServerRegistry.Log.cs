using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Coordination;

/// <content>The etcd registry's log messages (source-generated).</content>
public sealed partial class EtcdServerRegistry
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "etcd fail-over: the registry watch on member {From} broke ({Reason}); re-reading and watching through {To} in {DelayMilliseconds} ms")]
        public static partial void WatchFailover(ILogger logger, string from, string reason, string to, double delayMilliseconds);

        [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "etcd fail-over: a call failed ({Reason}); retrying on the client's next member in {DelayMilliseconds} ms")]
        public static partial void CallRetry(ILogger logger, string reason, double delayMilliseconds);

        [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "registry copy may be STALE: not confirmed current against etcd for {Seconds:0.00} s (bound {BoundSeconds:0.00} s); refusing every call (clients fail over) until etcd answers")]
        public static partial void Stale(ILogger logger, double seconds, double boundSeconds);

        [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "registry copy current again at etcd revision {Revision}; serving calls")]
        public static partial void Current(ILogger logger, long revision);

        [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "the registry watch on member {Member} is {Behind} revision(s) behind etcd for {Seconds:0.00} s (stalled member?); moving it to the next member")]
        public static partial void WatchStalled(ILogger logger, string member, long behind, double seconds);

        [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "registry in etcd at {Endpoints} (prefix {Prefix}): {Entries} entries at revision {Revision}; server leases of {LeaseSeconds} s, stale after {StaleSeconds} s without etcd")]
        public static partial void Started(ILogger logger, string endpoints, string prefix, int entries, long revision, double leaseSeconds, double staleSeconds);
    }
}
