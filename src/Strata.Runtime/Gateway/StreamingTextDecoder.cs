using Strata.Runtime.Tokenization;

namespace Strata.Runtime.Gateway;

/// <summary>Turns generated tokens into text pieces that concatenate to the decoded whole, cut before the first stop sequence.</summary>
/// <remarks>
/// Each call decodes every token so far (O(n^2) in the output length, negligible next to a forward pass)
/// and hands out only text that cannot change: a trailing U+FFFD (a UTF-8 character cut between tokens)
/// and a tail that could begin a stop sequence are held back until later tokens settle them.
/// </remarks>
internal sealed class StreamingTextDecoder
{
    private const char ReplacementCharacter = '\uFFFD';

    private readonly ITextTokenizer _tokenizer;
    private readonly IReadOnlyList<string> _stopSequences;
    private readonly List<int> _tokens = [];
    private int _emittedChars;
    private string? _stoppedText;

    public StreamingTextDecoder(ITextTokenizer tokenizer, IReadOnlyList<string> stopSequences)
    {
        _tokenizer = tokenizer;
        _stopSequences = stopSequences;
    }

    /// <summary>Whether a stop sequence has appeared (the text is final).</summary>
    public bool StopSequenceFound => _stoppedText is not null;

    /// <summary>Adds a token; returns the text that became final (often empty).</summary>
    public string Append(int token)
    {
        _tokens.Add(token);
        var text = _tokenizer.Decode(_tokens);
        var stopAt = FindStop(text);
        if (stopAt >= 0)
        {
            _stoppedText = text[..stopAt];
            return Take(_stoppedText, stopAt);
        }

        var stable = text.Length;
        while (stable > _emittedChars && text[stable - 1] == ReplacementCharacter)
        {
            stable--;
        }

        stable -= LongestStopPrefixSuffix(text, stable);
        return Take(text, stable);
    }

    /// <summary>Ends the stream: returns the rest of the text; <paramref name="fullText"/> is the whole completion.</summary>
    public string Finish(out string fullText)
    {
        fullText = _stoppedText ?? _tokenizer.Decode(_tokens);
        return Take(fullText, fullText.Length);
    }

    private string Take(string text, int endChars)
    {
        if (endChars <= _emittedChars)
        {
            return "";
        }

        var piece = text[_emittedChars..endChars];
        _emittedChars = endChars;
        return piece;
    }

    private int FindStop(string text)
    {
        var first = -1;
        foreach (var stop in _stopSequences)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
            }
        }

        return first;
    }

    // The length of the longest tail of text[..end] that is a proper prefix of a stop sequence.
    private int LongestStopPrefixSuffix(string text, int end)
    {
        var longest = 0;
        foreach (var stop in _stopSequences)
        {
            for (var length = Math.Min(stop.Length - 1, end); length > longest; length--)
            {
                if (text.AsSpan(end - length, length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }

        return longest;
    }
}
