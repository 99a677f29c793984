using Spectre.Console;
using Strata.Core.Models;
using Strata.Performance.Estimation;

namespace Strata.Cli.Output;

/// <summary>How every planning command says which performance model priced it and the error validation found for it.</summary>
internal static class Pricing
{
    /// <summary>The JSON object of one scored model (the <c>pricedBy</c> entries).</summary>
    public static object Json(ScoredModel model) => new
    {
        kind = model.Kind,
        model = model.Deployment.Model.Id.Value,
        device = model.Deployment.Device.Id.Value,
        tensorParallel = model.Deployment.TensorParallel,
        precision = PrecisionInfo.Name(model.Deployment.Precision),
        source = model.Source,
        expectedError = model.ExpectedError,
        scored = model.ExpectedError is not null,
    };

    /// <summary>The JSON array of several scored models.</summary>
    public static object[] Json(IEnumerable<ScoredModel> models) => [.. models.Select(Json)];

    /// <summary>One line per scored model under a table.</summary>
    public static void Render(IAnsiConsole console, IEnumerable<ScoredModel> models)
    {
        foreach (var model in models)
        {
            console.MarkupLine($"[grey]Priced by[/] {Markup.Escape(model.Describe())}");
        }
    }
}
