namespace Strata.Core.Scenarios;

/// <summary>Finds the known name closest to a misspelt one, for "did you mean" hints.</summary>
internal static class NameSuggester
{
    /// <summary>The closest candidate by edit distance (case-insensitive), or <see langword="null"/> when none is close.</summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        var lowered = input.ToLowerInvariant();
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = EditDistance(lowered, candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return best is not null && bestDistance <= Math.Max(2, input.Length / 3) ? best : null;
    }

    /// <summary>"; did you mean 'x'?" or "; expected one of a, b, c." for an error message ending.</summary>
    public static string Hint(string input, IReadOnlyCollection<string> candidates) =>
        Closest(input, candidates) is { } closest
            ? $"; did you mean '{closest}'?"
            : $"; expected one of {string.Join(", ", candidates)}.";

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
