using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Tests;

/// <summary>Loggers that keep every entry as a line <c>LEVEL Category: message</c> (category without its namespace), for tests that assert on logs.</summary>
internal sealed class TestLog : ILoggerProvider
{
    private readonly List<string> _lines = [];

    public TestLog() => Factory = LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(this));

    /// <summary>Loggers writing here.</summary>
    public ILoggerFactory Factory { get; }

    /// <summary>A copy of the lines so far.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Every line, for assertion messages.</summary>
    public override string ToString() => string.Join('\n', Lines);

    /// <summary>Whether a line contains every one of <paramref name="parts"/>.</summary>
    public bool Has(params string[] parts) => Lines.Any(line => parts.All(p => line.Contains(p, StringComparison.Ordinal)));

    /// <summary>Waits (at most <paramref name="timeout"/>) for a line containing every one of <paramref name="parts"/>.</summary>
    public async Task<bool> WaitForAsync(TimeSpan timeout, params string[] parts)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!Has(parts))
        {
            if (clock.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName[(categoryName.LastIndexOf('.') + 1)..]);

    public void Dispose()
    {
    }

    private sealed class Logger(TestLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (log._lines)
            {
                log._lines.Add($"{logLevel} {category}: {formatter(state, exception)}");
            }
        }
    }
}
