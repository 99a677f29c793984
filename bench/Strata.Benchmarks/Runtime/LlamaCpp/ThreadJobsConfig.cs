using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Strata.Benchmarks.Runtime.LlamaCpp;

/// <summary>
/// Two short jobs that differ only in the threads both engines get: one (<c>DOTNET_PROCESSOR_COUNT=1</c>) and all of
/// the machine's cores.
/// </summary>
/// <remarks>
/// A job rather than a <c>[Params]</c>: Strata sizes its parallel loops from <see cref="Environment.ProcessorCount"/>,
/// which only an environment variable of the benchmark process can lower, and llama.cpp is given the same count.
/// 3 warm-up and 5 measured iterations of a whole prefill or decode (0.2 s to several seconds each) run after
/// BenchmarkDotNet's jitting and pilot stages, so the numbers are tier-1 code (steady state), not the first calls.
/// </remarks>
internal sealed class ThreadJobsConfig : ManualConfig
{
    /// <summary>Id of the one-thread job.</summary>
    public const string OneThread = "1-thread";

    /// <summary>Id of the all-threads job.</summary>
    public const string AllThreads = "all-threads";

    public ThreadJobsConfig()
    {
        var job = Job.Default.WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(5);
        AddJob(job.WithEnvironmentVariable("DOTNET_PROCESSOR_COUNT", "1").WithId(OneThread));
        AddJob(job.WithId(AllThreads));

        // Each job builds its own copy of the project; on a shared 2-core machine that can take longer than the 2-minute default.
        WithBuildTimeout(TimeSpan.FromMinutes(15));
    }
}
