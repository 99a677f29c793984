namespace Strata.Performance.Profiles;

/// <summary>One measured run: a batch of equal prompts prefilled, then decoded for a number of tokens.</summary>
/// <param name="Model">Model name as the measurements spell it (<c>llama2-70b</c>).</param>
/// <param name="Hardware">Device name as the measurements spell it (<c>a100-80gb</c>).</param>
/// <param name="TensorParallel">Devices in the tensor-parallel group.</param>
/// <param name="PromptTokens">Prompt length of every request in the batch.</param>
/// <param name="BatchSize">Requests in the batch.</param>
/// <param name="OutputTokens">Tokens generated per request.</param>
/// <param name="PromptSeconds">Time to prefill the whole batch.</param>
/// <param name="TokenSeconds">Mean time of one decode step of the whole batch.</param>
/// <param name="Line">Line in the source file, for messages.</param>
public readonly record struct ProfileRow(
    string Model,
    string Hardware,
    int TensorParallel,
    int PromptTokens,
    int BatchSize,
    int OutputTokens,
    double PromptSeconds,
    double TokenSeconds,
    int Line)
{
    /// <summary>The deployment this row measures, normalised for matching with catalog ids.</summary>
    public ProfileKey Key => new(Model, Hardware, TensorParallel);

    /// <summary>The configuration measured (rows repeating it are repetitions).</summary>
    public (ProfileKey Key, int PromptTokens, int BatchSize, int OutputTokens) Configuration => (Key, PromptTokens, BatchSize, OutputTokens);

    /// <summary>Mean context a decode step attends to: the prompt plus half the output.</summary>
    public int MeanDecodeContextTokens => PromptTokens + OutputTokens / 2;
}
