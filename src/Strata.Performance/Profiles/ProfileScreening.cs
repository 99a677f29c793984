namespace Strata.Performance.Profiles;

/// <summary>Drops measured configurations that cannot be right before anything is fitted to them.</summary>
/// <remarks>
/// Rule: a prefill of more tokens cannot take less than half the time of a prefill of fewer tokens on the same
/// deployment. In the Splitwise profiles this drops Llama-2-70B at tensor parallelism 2 with 64 prompts of 512
/// tokens (794 ms on A100 and 361 ms on H100, against 6.6 s and 2.4 s for half the tokens): runs that most
/// likely ran out of memory and measured something else.
/// </remarks>
public static class ProfileScreening
{
    /// <summary>The rows kept and, for each configuration dropped, why.</summary>
    public static (IReadOnlyList<ProfileRow> Kept, IReadOnlyList<string> Excluded) Screen(IReadOnlyList<ProfileRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var excluded = new List<string>();
        var dropped = new HashSet<(ProfileKey, int, int, int)>();
        foreach (var deployment in rows.GroupBy(row => row.Key))
        {
            var configurations = deployment
                .GroupBy(row => row.Configuration)
                .Select(group => (group.Key, Tokens: (long)group.Key.PromptTokens * group.Key.BatchSize, Seconds: Samples.Median(group.Select(row => row.PromptSeconds)), Count: group.Count()))
                .OrderBy(configuration => configuration.Tokens)
                .ToArray();
            foreach (var configuration in configurations)
            {
                var slowerSmaller = configurations
                    .Where(other => other.Tokens < configuration.Tokens && other.Seconds > 2 * configuration.Seconds)
                    .OrderByDescending(other => other.Seconds)
                    .FirstOrDefault();
                if (slowerSmaller.Count > 0)
                {
                    dropped.Add(configuration.Key);
                    excluded.Add(
                        $"{configuration.Key.Key} prompt {configuration.Key.PromptTokens} x batch {configuration.Key.BatchSize} ({configuration.Count} rows): " +
                        $"prefill of {configuration.Tokens} tokens in {configuration.Seconds * 1000:F0} ms, under half the {slowerSmaller.Seconds * 1000:F0} ms measured for {slowerSmaller.Tokens} tokens");
                }
            }
        }

        return (rows.Where(row => !dropped.Contains(row.Configuration)).ToArray(), excluded);
    }
}
