namespace Strata.Core.Scenarios;

/// <summary>Which request trace a workload replays or samples lengths from.</summary>
public enum TraceKind
{
    /// <summary>The Azure LLM inference trace 2023, conversation service (<c>conv</c>, <c>data/azure-llm-2023/</c>).</summary>
    AzureConversation,
    /// <summary>The Azure LLM inference trace 2023, coding service (<c>code</c>, <c>data/azure-llm-2023/</c>).</summary>
    AzureCode,
    /// <summary>A CSV file with the Azure trace's columns: <c>TIMESTAMP,ContextTokens,GeneratedTokens</c>.</summary>
    File,
}
