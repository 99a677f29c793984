using Strata.Runtime.Engine;
using Strata.Runtime.Tokenization;

namespace Strata.Runtime.Gateway;

/// <summary>Collects the log-probabilities of one choice's tokens: all of them for a response, those not yet sent for a stream's next chunk.</summary>
internal sealed class LogprobsTracker(ITextTokenizer tokenizer, bool isChat)
{
    private readonly List<GeneratedToken> _tokens = [];
    private readonly List<int> _offsetsChars = [];
    private int _sent;

    /// <summary>Adds a token of the choice's text (never an end-of-sequence token).</summary>
    public void Add(GeneratedToken token)
    {
        // Where the token starts: the length of the text decoded before it (completions' text_offset).
        _offsetsChars.Add(isChat ? 0 : tokenizer.Decode([.. _tokens.Select(t => t.TokenId)]).Length);
        _tokens.Add(token);
    }

    /// <summary>The logprobs object of the tokens not yet sent (null when there are none), marking them sent.</summary>
    public object? TakePending()
    {
        if (_sent == _tokens.Count)
        {
            return null;
        }

        var payload = Build(_sent, _tokens.Count - _sent);
        _sent = _tokens.Count;
        return payload;
    }

    /// <summary>The logprobs object of every token.</summary>
    public object TakeAll()
    {
        _sent = _tokens.Count;
        return Build(0, _tokens.Count);
    }

    private object Build(int first, int count) =>
        isChat
            ? LogprobsPayload.Chat(tokenizer, _tokens.GetRange(first, count))
            : LogprobsPayload.Completion(tokenizer, _tokens.GetRange(first, count), _offsetsChars.GetRange(first, count));
}
