namespace Strata.Runtime.Engine;

/// <summary>A generation with its text.</summary>
/// <param name="Generation">Token ids and timings.</param>
/// <param name="Text">The generated tokens as text.</param>
/// <param name="TokenizerName">Which tokenizer was used.</param>
/// <param name="ParameterCount">Weights of the model (embedding and head included, norms excluded).</param>
/// <param name="LoadSeconds">Wall time of loading the model folder (weights into memory), before the warm-up token.</param>
public sealed record LocalGenerationResult(GenerationResult Generation, string Text, string TokenizerName, long ParameterCount, double LoadSeconds);
