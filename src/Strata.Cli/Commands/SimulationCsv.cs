using System.Globalization;
using System.Text;
using Strata.Core;
using Strata.Simulation.Cluster;

namespace Strata.Cli.Commands;

/// <summary><c>--requests-csv</c> and <c>--iterations-csv</c>: one row per request or per iteration, as SplitwiseSim and Vidur write.</summary>
internal static class SimulationCsv
{
    public static void WriteRequests(string path, SimulationResult result)
    {
        var text = new StringBuilder("request,arrival_s,prompt_tokens,output_tokens,completed,ttft_s,e2e_s,prefill_machine,decode_machine,preemptions\n");
        foreach (var o in result.Outcomes ?? [])
        {
            text.Append(CultureInfo.InvariantCulture, $"{o.Index},{o.ArrivalSeconds:R},{o.PromptTokens},{o.OutputTokens},{(o.Completed ? 1 : 0)},{o.TtftSeconds:R},{o.E2eSeconds:R},{o.PrefillMachine},{o.DecodeMachine},{o.Preemptions}\n");
        }

        Write(path, text, "--requests-csv");
    }

    public static void WriteIterations(string path, SimulationResult result)
    {
        var text = new StringBuilder("machine,start_s,duration_s,prompt_tokens,decodes\n");
        foreach (var i in result.IterationRecords ?? [])
        {
            text.Append(CultureInfo.InvariantCulture, $"{i.Machine},{i.StartSeconds:R},{i.DurationSeconds:R},{i.PromptTokens},{i.Decodes}\n");
        }

        Write(path, text, "--iterations-csv");
    }

    private static void Write(string path, StringBuilder text, string flag)
    {
        try
        {
            File.WriteAllText(path, text.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StrataException($"{flag}: cannot write '{path}': {e.Message}");
        }
    }
}
