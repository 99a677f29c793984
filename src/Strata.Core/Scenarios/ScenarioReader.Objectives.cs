using Strata.Core.Workload;
using YamlDotNet.RepresentationModel;

namespace Strata.Core.Scenarios;

/// <summary>What a scenario is judged by and compares: SLOs and policy selection.</summary>
internal sealed partial class ScenarioReader
{
    private static readonly string[] SloKeys = ["classes", "slowdown"];
    private static readonly string[] SloClassKeys = ["id", "ttftSeconds", "tbtSeconds", "e2eSeconds"];
    private static readonly string[] PolicyKeys = ["designs", "placement", "routing", "split"];
    private static readonly Dictionary<string, SlowdownSlo> Slowdowns = new()
    {
        ["none"] = SlowdownSlo.None,
        ["splitwise"] = SlowdownSlo.Splitwise,
    };

    private SloSpec ReadSlos(YamlMap top)
    {
        if (top.Map("slos", SloKeys) is not { } slos)
        {
            return SloSpec.None;
        }

        var classes = new List<SloClass>();
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (item, path) in slos.Items("classes", "a list of SLO classes, each with an 'id' and latency targets"))
        {
            var entry = YamlMap.Of(this, item, path, SloClassKeys);
            var id = entry.RequiredString("id", "a class name such as 'default'");
            Unique(seen, id, entry.Get("id")!, entry.Field("id"), path);
            var ttft = entry.Number("ttftSeconds", value => value > 0, "a number of seconds > 0");
            var tbt = entry.Number("tbtSeconds", value => value > 0, "a number of seconds > 0");
            var e2e = entry.Number("e2eSeconds", value => value > 0, "a number of seconds > 0");
            if (ttft is null && tbt is null && e2e is null)
            {
                throw Error(item, $"{path} sets no target; expected at least one of 'ttftSeconds', 'tbtSeconds', 'e2eSeconds'.");
            }

            classes.Add(new SloClass(id, new ServiceLevelObjective(ttft, tbt, e2e)));
        }

        return new SloSpec(classes, slos.Choice("slowdown", Slowdowns) ?? SlowdownSlo.None);
    }

    private PolicySelection ReadPolicies(YamlMap top)
    {
        if (top.Map("policies", PolicyKeys) is not { } policies)
        {
            return PolicySelection.Empty;
        }

        return new PolicySelection(
            ReadNames(policies, "designs", PolicyNames.Designs),
            ReadNames(policies, "placement", PolicyNames.Placement),
            ReadNames(policies, "routing", PolicyNames.Routing),
            ReadNames(policies, "split", PolicyNames.Split));
    }

    /// <summary>A list of known names (a single name counts as a list of one), each checked against <paramref name="known"/>.</summary>
    private List<string> ReadNames(YamlMap map, string key, IReadOnlyList<string> known)
    {
        if (map.Get(key) is not { } node)
        {
            return [];
        }

        var items = node is YamlSequenceNode
            ? map.Items(key)
            : [(node, map.Field(key))];
        var names = new List<string>();
        foreach (var (item, path) in items)
        {
            var text = YamlValues.Text(item)?.Trim();
            var name = known.FirstOrDefault(candidate => string.Equals(candidate, text, StringComparison.OrdinalIgnoreCase));
            if (name is null)
            {
                var hint = text is not null && NameSuggester.Closest(text, known) is { } closest ? $" (did you mean '{closest}'?)" : string.Empty;
                throw Invalid(item, path, $"one of {string.Join(", ", known)}{hint}");
            }

            if (names.Contains(name))
            {
                throw Error(item, $"{path} is '{name}', which the list already names; expected each name once.");
            }

            names.Add(name);
        }

        return names;
    }
}
