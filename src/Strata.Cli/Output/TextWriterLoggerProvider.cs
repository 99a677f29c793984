using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Strata.Cli.Output;

/// <summary>
/// Loggers that write one line per entry to a <see cref="TextWriter"/> (the command's standard error):
/// <c>2026-01-02T03:04:05.678Z warn CoordinatorClient: message</c>, then the exception, if any, indented.
/// </summary>
/// <remarks>
/// Thread-safe: lines are written whole under a lock on the writer and flushed, so that a parent process reading the
/// stream sees each line as it happens. The writer is the command's, so in-process runs (tests) capture the lines too.
/// </remarks>
internal sealed class TextWriterLoggerProvider(TextWriter writer, TimeProvider time) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose()
    {
    }

    private void Write(LogLevel level, string category, string message, Exception? exception)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{time.GetUtcNow():yyyy-MM-ddTHH:mm:ss.fff}Z {Name(level)} {category}: {message}");
        lock (writer)
        {
            writer.WriteLine(line);
            if (exception is not null)
            {
                writer.WriteLine("    " + exception.ToString().ReplaceLineEndings(Environment.NewLine + "    "));
            }

            writer.Flush();
        }
    }

    private static string Name(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        _ => "crit",
    };

    private sealed class Logger(TextWriterLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(logLevel, category, formatter(state, exception), exception);
            }
        }
    }
}
