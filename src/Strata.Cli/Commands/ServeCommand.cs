using System.CommandLine;

namespace Strata.Cli.Commands;

/// <summary><c>strata serve</c>: the long-running processes of the runtime (coordinator, block servers).</summary>
internal static class ServeCommand
{
    public static Command Create(CliContext context) =>
        new("serve", "Run a process of the distributed runtime until Ctrl+C or SIGTERM: a coordinator, a block server or the OpenAI-compatible gateway.")
        {
            ServeCoordinatorCommand.Create(context),
            ServeBlockCommand.Create(context),
            ServeGatewayCommand.Create(context),
        };

    /// <summary>The line a parent process reads to learn the bound address.</summary>
    public static string ListeningLine(Uri address) => $"listening on {address.Scheme}://{address.Authority}";

    /// <summary>Waits until the command is cancelled (Ctrl+C, SIGTERM).</summary>
    public static async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The normal way out.
        }
    }
}
