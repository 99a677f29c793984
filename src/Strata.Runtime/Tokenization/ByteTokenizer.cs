using System.Text;

namespace Strata.Runtime.Tokenization;

/// <summary>The fallback tokenizer: one token per UTF-8 byte (ids 0-255); ids above 255 decode as <c>&lt;|id|&gt;</c>.</summary>
public sealed class ByteTokenizer : ITextTokenizer
{
    /// <summary>The tokens a byte-level vocabulary needs.</summary>
    public const int ByteCount = 256;

    /// <inheritdoc/>
    public string Name => "byte-level";

    /// <inheritdoc/>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. Encoding.UTF8.GetBytes(text).Select(b => (int)b)];
    }

    /// <inheritdoc/>
    public string Decode(IReadOnlyList<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            if (token is >= 0 and < ByteCount)
            {
                bytes.Add((byte)token);
                continue;
            }

            text.Append(Encoding.UTF8.GetString([.. bytes]));
            bytes.Clear();
            text.Append("<|").Append(token).Append("|>");
        }

        return text.Append(Encoding.UTF8.GetString([.. bytes])).ToString();
    }
}
