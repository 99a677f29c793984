namespace Strata.Core;

/// <summary>An error the user can cause and fix: bad input, an unknown name, a model that does not fit.</summary>
/// <remarks>
/// The message is one sentence that names what was wrong (file, field, value) and what was expected.
/// The command line prints it without a stack trace and exits with <see cref="ExitCode"/>.
/// </remarks>
public sealed class StrataException : Exception
{
    /// <summary>Creates an error with a user-facing message.</summary>
    public StrataException(string message, int exitCode = 2) : base(message) => ExitCode = exitCode;

    /// <summary>Creates an error with a user-facing message and the low-level cause.</summary>
    public StrataException(string message, Exception innerException, int exitCode = 2)
        : base(message, innerException) => ExitCode = exitCode;

    /// <summary>The process exit code the command line returns for this error (2: invalid input).</summary>
    public int ExitCode { get; }
}
