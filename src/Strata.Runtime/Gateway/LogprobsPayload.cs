using System.Text;
using Strata.Runtime.Engine;
using Strata.Runtime.Tokenization;

namespace Strata.Runtime.Gateway;

/// <summary>Builds the <c>logprobs</c> objects of OpenAI's responses from the tokens of one choice (or one chunk).</summary>
/// <remarks>
/// A token's text is its decoding alone; a token that holds part of a UTF-8 character decodes to U+FFFD, and its
/// <c>bytes</c> are those of that text (the tokenizer interface does not expose a token's raw bytes).
/// </remarks>
internal static class LogprobsPayload
{
    /// <summary>Chat: <c>{"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], "refusal": null}</c>.</summary>
    public static object Chat(ITextTokenizer tokenizer, IReadOnlyList<GeneratedToken> tokens) =>
        new
        {
            Content = tokens.Select(t => new
            {
                Token = TokenText(tokenizer, t.TokenId),
                Logprob = t.Logprobs!.Logprob,
                Bytes = Bytes(TokenText(tokenizer, t.TokenId)),
                TopLogprobs = t.Logprobs.Top.Select(a => new { Token = TokenText(tokenizer, a.TokenId), a.Logprob, Bytes = Bytes(TokenText(tokenizer, a.TokenId)) }).ToArray(),
            }).ToArray(),
            Refusal = (string?)null,
        };

    /// <summary>Completions: <c>{"tokens", "token_logprobs", "top_logprobs": [{text: logprob}], "text_offset"}</c>; each offset is where its token starts in the choice text, in characters.</summary>
    public static object Completion(ITextTokenizer tokenizer, IReadOnlyList<GeneratedToken> tokens, IReadOnlyList<int> textOffsetsChars) =>
        new
        {
            Tokens = tokens.Select(t => TokenText(tokenizer, t.TokenId)).ToArray(),
            TokenLogprobs = tokens.Select(t => t.Logprobs!.Logprob).ToArray(),
            TopLogprobs = tokens.Select(t => TopMap(tokenizer, t)).ToArray(),
            TextOffset = textOffsetsChars.ToArray(),
        };

    // Two alternatives can decode to the same text (two halves of UTF-8 characters): the more likely one is kept, as a map allows one entry per text.
    private static Dictionary<string, double> TopMap(ITextTokenizer tokenizer, GeneratedToken token)
    {
        var map = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (id, logprob) in token.Logprobs!.Top)
        {
            map.TryAdd(TokenText(tokenizer, id), logprob);
        }

        return map;
    }

    private static string TokenText(ITextTokenizer tokenizer, int tokenId) => tokenizer.Decode([tokenId]);

    private static int[] Bytes(string text) => [.. Encoding.UTF8.GetBytes(text).Select(b => (int)b)];
}
