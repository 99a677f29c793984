using Strata.Core.Catalogs;
using Strata.Core.Models;
using Strata.Performance;

namespace Strata.Benchmarks.Performance;

/// <summary>The deployment every performance benchmark uses: Llama-2-70B in fp16 on 8x A100-80GB (tensor parallel 8).</summary>
/// <remarks>Chosen because the built-in Splitwise profile measures it, so the roofline and the measured model both apply.</remarks>
internal static class Llama70bOnEightA100
{
    /// <summary>A fresh deployment built from the built-in catalog.</summary>
    public static Deployment Create() =>
        new(Catalog.BuiltIn.Model("llama-2-70b"), Catalog.BuiltIn.Machine("8xa100-80gb"), Precision.Fp16);
}
