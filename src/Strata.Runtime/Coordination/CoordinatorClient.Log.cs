using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Coordination;

/// <content>The coordinator client's log messages (source-generated).</content>
public sealed partial class CoordinatorClient
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "coordinator fail-over from {From} to {To} in {DelayMilliseconds} ms: the first did not answer ({StatusCode}: {Detail})")]
        public static partial void Failover(ILogger logger, Uri from, Uri to, StatusCode statusCode, string detail, double delayMilliseconds);
    }
}
