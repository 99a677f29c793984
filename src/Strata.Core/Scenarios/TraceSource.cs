namespace Strata.Core.Scenarios;

/// <summary>A request trace: one of the built-in Azure LLM inference traces, or a CSV file.</summary>
/// <param name="Kind">Which trace.</param>
/// <param name="FilePath">Absolute path of the CSV file; set only for <see cref="TraceKind.File"/>.</param>
public sealed record TraceSource(TraceKind Kind, string? FilePath = null)
{
    /// <summary>The name as written in a scenario file: <c>conv</c>, <c>code</c>, or the file path.</summary>
    public string DisplayName => Kind switch
    {
        TraceKind.AzureConversation => "conv",
        TraceKind.AzureCode => "code",
        _ => FilePath ?? "?",
    };
}
