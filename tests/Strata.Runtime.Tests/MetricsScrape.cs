using System.Globalization;

namespace Strata.Runtime.Tests;

/// <summary>Reads Prometheus text from a <c>/metrics</c> endpoint and picks samples out of it.</summary>
internal static class MetricsScrape
{
    /// <summary>GETs <c>/metrics</c> at <paramref name="address"/> over HTTP/1.1 and returns the text.</summary>
    public static async Task<string> GetAsync(Uri address)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var reply = await http.GetAsync(new Uri(address, "/metrics"));
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", reply.Content.Headers.ContentType?.ToString());
        return await reply.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the sample whose name and labels are exactly <paramref name="series"/> (for example <c>strata_block_steps_total{kind="decode"}</c>), or null when absent.</summary>
    public static double? Value(string text, string series)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>The value of <paramref name="series"/>, failing the test (with the scrape) when it is absent.</summary>
    public static double Required(string text, string series) =>
        Value(text, series) ?? throw new Xunit.Sdk.XunitException($"no sample {series} in the scrape:\n{text}");
}
