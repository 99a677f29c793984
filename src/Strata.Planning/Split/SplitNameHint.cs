namespace Strata.Planning.Split;

/// <summary>"Did you mean" hints for misspelt field and planner names.</summary>
internal static class SplitNameHint
{
    /// <summary>"; did you mean 'x'?" when a candidate is close, else "; expected one of a, b, c.".</summary>
    public static string For(string input, IReadOnlyCollection<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = EditDistance(input.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        // Close by edit distance, or the input is a clipped form of the name (slaSecs for slaSeconds).
        return best is not null && (bestDistance <= Math.Max(2, input.Length / 3) || IsClipped(input, best))
            ? $"; did you mean '{best}'?"
            : $"; expected one of {string.Join(", ", candidates)}.";
    }

    private static bool IsClipped(string input, string candidate) =>
        input.Length >= 3 && candidate.StartsWith(input[..Math.Min(input.Length, 3)], StringComparison.OrdinalIgnoreCase)
        && EditDistance(input.ToLowerInvariant(), candidate.ToLowerInvariant()) == candidate.Length - input.Length;

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
