using System.Net;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Strata.Runtime.Engine;
using Strata.Runtime.Gateway;

namespace Strata.Runtime.Tests.Gateway;

public sealed class GatewayBadBytesTests(TinyGatewayFixture fixture) : IClassFixture<TinyGatewayFixture>
{
    private static readonly ICompletionBackend[] Backends = [new ChainCompletionBackend(TestModels.Tiny(), new Runtime.Tokenization.ByteTokenizer(), () => new LocalBlockChain(TestModels.Tiny()), "tiny")];

    private static readonly string[] ValidBodies =
    [
        """{"prompt": "Hello", "max_tokens": 4, "temperature": 0.5, "top_p": 0.9, "stop": ["x"], "seed": 3, "stream": false}""",
        """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [{"type": "text", "text": "yo"}]}], "max_completion_tokens": 3}""",
    ];

    [Theory]
    [InlineData("/v1/completions", "{\"prompt\": \"a\xff\xfeb\"}")]
    [InlineData("/v1/completions", "{\"prompt\": \"\\ud800\"}")]
    [InlineData("/v1/completions", "{\"prompt\": \"x\", \"stop\": [\"\\udfff\"]}")]
    [InlineData("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"\\ud83d\"}]}")]
    [InlineData("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"a\xc3\"}]}")]
    public async Task Invalid_utf8_and_lone_surrogates_get_400_with_an_error_object(string path, string latin1Body)
    {
        using var http = GatewayHttp.Client(fixture.Host.Address);
        using var content = new ByteArrayContent(Encoding.Latin1.GetBytes(latin1Body)); // each char one byte, so \xff stays a raw 0xFF
        content.Headers.ContentType = new("application/json");
        using var response = await http.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var document = JsonDocument.Parse(text);
        GatewayHttp.AssertError(document.RootElement, null, "invalid_json");
    }

    [Fact]
    public void Any_mutation_of_a_valid_body_parses_or_is_refused_with_a_400_never_another_exception()
    {
        Prop.ForAll(
            Gen.Choose(0, ValidBodies.Length - 1).ToArbitrary(),
            Gen.ArrayOf(Gen.Zip(Gen.Choose(0, 400), Gen.Choose(0, 255))).ToArbitrary(),
            (which, edits) =>
            {
                var bytes = Encoding.UTF8.GetBytes(ValidBodies[which]).ToList();
                foreach (var (at, value) in edits)
                {
                    var index = at % (bytes.Count + 1);
                    switch (value % 3)
                    {
                        case 0 when index < bytes.Count:
                            bytes[index] = (byte)value;
                            break;
                        case 1:
                            bytes.Insert(index, (byte)value);
                            break;
                        default:
                            if (index < bytes.Count)
                            {
                                bytes.RemoveAt(index);
                            }

                            break;
                    }
                }

                return ParsesOrRefuses([.. bytes], isChat: which == 1);
            })
            .QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_prompt_of_any_utf16_code_units_parses_exactly_when_it_is_valid_unicode()
    {
        Prop.ForAll(
            Gen.ArrayOf(Gen.Elements('a', 'é', '\ud800', '\udc00', '\ud83d', '\ude00', '"', '\\', '\u0000')).ToArbitrary(),
            chars =>
            {
                var text = new string(chars);
                var escaped = string.Concat(chars.Select(c => $"\\u{(int)c:x4}"));
                var body = Encoding.UTF8.GetBytes($"{{\"prompt\": \"{escaped}\"}}");
                var valid = text.Length > 0 && IsValidUtf16(text);
                try
                {
                    var request = CompletionRequestParser.Parse(body, false, TinyGatewayFixture.Options, Backends, () => 0);
                    return valid && request.PromptText == text;
                }
                catch (GatewayRequestException exception)
                {
                    return !valid && exception.StatusCode == 400;
                }
            })
            .QuickCheckThrowOnFailure();
    }

    private static bool ParsesOrRefuses(byte[] body, bool isChat)
    {
        try
        {
            CompletionRequestParser.Parse(body, isChat, TinyGatewayFixture.Options, Backends, () => 0);
            return true;
        }
        catch (GatewayRequestException exception)
        {
            return exception.StatusCode == 400 && exception.Message.Length > 0;
        }
    }

    private static bool IsValidUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}
