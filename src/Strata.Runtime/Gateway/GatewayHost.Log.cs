using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Gateway;

/// <content>The gateway's log messages (source-generated).</content>
public sealed partial class GatewayHost
{
    internal static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "gateway listening on {Address}, serving {Models}; {MaxRunning} generations at once, {MaxQueued} queued")]
        public static partial void Started(ILogger logger, Uri address, string models, int maxRunning, int maxQueued);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "{Method} {Path} {StatusCode} {ElapsedMilliseconds:0.0} ms {Remote}")]
        public static partial void Access(ILogger logger, string method, string path, int statusCode, double elapsedMilliseconds, string? remote);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "unexpected failure on {Method} {Path}")]
        public static partial void Unexpected(ILogger logger, Exception exception, string method, string path);

        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "generation {RequestId} failed after {Tokens} tokens ({StatusCode} {Code}): {Reason}")]
        public static partial void GenerationFailed(ILogger logger, string requestId, int tokens, int statusCode, string? code, string reason);

        [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "queue full ({Queued} waiting, {Running} running): 429 with Retry-After {RetryAfterSeconds} s")]
        public static partial void QueueFull(ILogger logger, int queued, int running, int retryAfterSeconds);

        [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "generation {RequestId}: {PromptTokens} prompt + {CompletionTokens} completion tokens, seed {Seed}, TTFT {TtftSeconds:0.000} s, TPOT {TpotSeconds:0.0000} s")]
        public static partial void Generated(ILogger logger, string requestId, int promptTokens, int completionTokens, ulong seed, double ttftSeconds, double tpotSeconds);
    }
}
