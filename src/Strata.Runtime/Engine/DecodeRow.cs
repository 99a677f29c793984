namespace Strata.Runtime.Engine;

/// <summary>One session's next token in a batched decode step: the session and the token's hidden state, <c>(hidden)</c>.</summary>
/// <param name="Session">The session; each block appends the token to its KV cache.</param>
/// <param name="Hidden">The hidden state of the token, <c>(hidden)</c>; overwritten with the block range's output.</param>
public readonly record struct DecodeRow(InferenceSession Session, Memory<float> Hidden);
