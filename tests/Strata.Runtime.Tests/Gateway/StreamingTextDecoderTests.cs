using System.Text;
using Strata.Runtime.Gateway;
using Strata.Runtime.Tokenization;

namespace Strata.Runtime.Tests.Gateway;

public sealed class StreamingTextDecoderTests
{
    [Fact]
    public void A_utf8_character_split_across_tokens_is_held_back_until_complete()
    {
        var decoder = new StreamingTextDecoder(new ByteTokenizer(), []);
        var pieces = Encoding.UTF8.GetBytes("a€b").Select(b => decoder.Append(b)).ToList();
        pieces.Add(decoder.Finish(out var text));

        Assert.Equal(["a", "", "", "€", "b", ""], pieces);
        Assert.Equal("a€b", text);
    }

    [Fact]
    public void Text_that_may_start_a_stop_sequence_is_held_back_and_the_stop_cuts_the_text()
    {
        var decoder = new StreamingTextDecoder(new ByteTokenizer(), ["END"]);
        var pieces = new List<string>();
        foreach (var b in Encoding.UTF8.GetBytes("xEyENDz"))
        {
            pieces.Add(decoder.Append(b));
            if (decoder.StopSequenceFound)
            {
                break;
            }
        }

        pieces.Add(decoder.Finish(out var text));
        Assert.Equal("xEy", text);
        Assert.Equal("xEy", string.Concat(pieces));
        Assert.Equal(["x", "", "Ey", "", "", "", ""], pieces);
    }

    [Fact]
    public void Invalid_bytes_at_the_end_are_flushed_by_finish()
    {
        var decoder = new StreamingTextDecoder(new ByteTokenizer(), []);
        var streamed = decoder.Append('a') + decoder.Append(0xE2) + decoder.Append(0xFF);
        var rest = decoder.Finish(out var text);

        Assert.Equal(new ByteTokenizer().Decode([(int)'a', 0xE2, 0xFF]), text);
        Assert.Equal(text, streamed + rest);
    }
}
