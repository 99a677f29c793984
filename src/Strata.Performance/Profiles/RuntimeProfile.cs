using System.Text.Json;
using System.Text.Json.Serialization;
using Strata.Core;

namespace Strata.Performance.Profiles;

/// <summary>
/// A device profile of Strata's own CPU runtime on one machine (<c>strata profile runtime</c>): per-block prefill time
/// by prompt length, per-block decode time by context, the head's time, one gRPC hop's overhead, and how much slower each
/// session runs when several run at once on the machine's shared cores.
/// </summary>
/// <remarks>
/// Values are medians over repetitions measured after warm-up (JIT tier-up). As a <see cref="IBlockCostModel"/>: a batch's
/// prefill requests cost the prefill curve at their mean prompt length each, decoding requests the decode curve at their
/// mean context each (the runtime runs a session's step alone: no batching across sessions), times the block count.
/// </remarks>
public sealed record RuntimeProfile : IBlockCostModel
{
    /// <summary>The file's kind marker.</summary>
    public const string KindName = "strata-runtime-profile";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    // Curves built on first use from the points below; each point list's init clears its curve, so a copy made with
    // `with { ... }` never evaluates the points it replaced.
    private PiecewiseLinear? _prefill;
    private PiecewiseLinear? _decode;
    private PiecewiseLinear? _slowdown;
    private PiecewiseLinear? _batchCost;
    private PiecewiseLinear? _delayedExtra;

    /// <summary>Always <see cref="KindName"/>.</summary>
    public string Kind { get; init; } = KindName;

    /// <summary>Format version (1).</summary>
    public int Version { get; init; } = 1;

    /// <summary>The model profiled (its config name).</summary>
    public required string Model { get; init; }

    /// <summary>Blocks of that model.</summary>
    public required int LayerCount { get; init; }

    /// <summary>The machine (logical processors, OS) it was measured on.</summary>
    public required string Machine { get; init; }

    /// <summary>Timed repetitions behind each median.</summary>
    public required int Repetitions { get; init; }

    /// <summary>Untimed iterations run first, so that the JIT has tiered the kernels up.</summary>
    public required int WarmupIterations { get; init; }

    /// <summary>Prefill seconds of one block by prompt tokens.</summary>
    public required IReadOnlyList<RuntimeProfilePoint> PrefillSecondsPerBlock
    {
        get;
        init
        {
            field = value;
            _prefill = null;
        }
    }

    /// <summary>Decode seconds of one block for one token by context tokens (the new token included).</summary>
    public required IReadOnlyList<RuntimeProfilePoint> DecodeSecondsPerBlock
    {
        get;
        init
        {
            field = value;
            _decode = null;
        }
    }

    /// <summary>Embedding, final norm and LM head for one sequence's prefill, seconds.</summary>
    public required double HeadPrefillSeconds { get; init; }

    /// <summary>Embedding, final norm and LM head for one decode step, seconds.</summary>
    public required double HeadDecodeSeconds { get; init; }

    /// <summary>One gRPC round trip to a block server on loopback beyond its compute (serialisation, HTTP/2, scheduling), seconds.</summary>
    public required double HopOverheadSeconds { get; init; }

    /// <summary>How much longer a session's step takes with this many sessions stepping at once on the machine (1 at one session), measured with the steps going through a decode batcher as block servers run them.</summary>
    public required IReadOnlyList<RuntimeProfilePoint> ConcurrencySlowdown
    {
        get;
        init
        {
            field = value;
            _slowdown = null;
        }
    }

    /// <summary>
    /// Cost of one batched decode step of <c>m</c> one-token rows (one pass over the weights, as a block server's decode
    /// batcher runs it) over one row's step at the same context, by <c>m</c> (1 at one row); null in profiles written
    /// before it was measured, which the loopback predictor then prices with <see cref="ConcurrencySlowdown"/> instead.
    /// </summary>
    public IReadOnlyList<RuntimeProfilePoint>? DecodeBatchCost
    {
        get;
        init
        {
            field = value;
            _batchCost = null;
        }
    }

    /// <summary>
    /// Mean completion time of <c>m</c> prefills started at once (on the thread pool, as a server runs its calls) over one
    /// prefill's, by <c>m</c> (1 at one); null when not measured. The loopback predictor sets the processors one prefill
    /// asks for from its largest <c>m</c>.
    /// </summary>
    public IReadOnlyList<RuntimeProfilePoint>? PrefillConcurrency { get; init; }

    /// <summary>Logical processors the runtime's kernels and threads share on the machine profiled (0: not recorded).</summary>
    public int LogicalProcessors { get; init; }

    /// <summary>How long a block server's decode batcher waits for more tokens once other sessions decode too, seconds (its default when profiled; 0: not recorded).</summary>
    public double DecodeBatchWaitSeconds { get; init; }

    /// <summary>
    /// Longest a block server's decode batcher waits for the sessions of its recent steps predicted back soon, seconds (its
    /// default when profiled; 0: not recorded, and the loopback predictor then models the batcher without that wait, as
    /// the servers ran before it existed).
    /// </summary>
    public double DecodeReturnWaitSeconds { get; init; }

    /// <summary>
    /// What a reply delayed by an emulated round trip costs a compute step beyond what it costs a small call (a
    /// round-trip probe), seconds: idle threads woken, timer overshoot the probe does not see (0: not recorded).
    /// </summary>
    public double DelayedStepExtraSeconds { get; init; }

    /// <summary>
    /// What a reply delayed by an emulated round trip costs a compute step beyond what it costs a small call, seconds per
    /// block of the step, by the delay in milliseconds (null: not measured; <see cref="DelayedStepExtraSeconds"/> then
    /// stands for every step): a step that follows an idle wait may run on cold caches and woken cores (on the 2-core Xeon
    /// the profiler's paired probe measured 0 to 0.02 ms per block at 5 to 80 ms).
    /// </summary>
    public IReadOnlyList<RuntimeProfilePoint>? DelayedStepExtraPerBlock
    {
        get;
        init
        {
            field = value;
            _delayedExtra = null;
        }
    }

    /// <summary>
    /// What opening a coordinated session costs beyond its routing calls and first hop (placement and route at the
    /// coordinator, the server's session set-up), seconds, paid once per generation before its prefill (0: not recorded).
    /// </summary>
    public double SessionOpenSeconds { get; init; }

    /// <summary>
    /// What a step of <paramref name="blocks"/> blocks at a server that delays its replies by
    /// <paramref name="delaySeconds"/> costs beyond the delay, seconds: <see cref="DelayedStepExtraPerBlock"/> at that delay
    /// (held at its ends) times the blocks, or <see cref="DelayedStepExtraSeconds"/> without it; 0 without a delay.
    /// </summary>
    public double DelayedStepExtra(int blocks, double delaySeconds)
    {
        if (!(delaySeconds > 0))
        {
            return 0;
        }

        if (DelayedStepExtraPerBlock is not { Count: > 0 } points)
        {
            return DelayedStepExtraSeconds;
        }

        var curve = _delayedExtra ??= Curve(points);
        return blocks * curve.Evaluate(Math.Clamp(delaySeconds * 1e3, curve.MinX, curve.MaxX));
    }

    /// <summary>Whether the profile holds what the batching model of the loopback predictor needs (<see cref="DecodeBatchCost"/> and <see cref="LogicalProcessors"/>).</summary>
    [JsonIgnore]
    public bool HasBatchModel => DecodeBatchCost is { Count: > 0 } && LogicalProcessors > 0;

    /// <inheritdoc />
    [JsonIgnore]
    public string Name => "runtime-profile";

    /// <summary>Prefill seconds of one block for a prompt of <paramref name="tokens"/> tokens.</summary>
    public double PrefillSeconds(int tokens) => (_prefill ??= Curve(PrefillSecondsPerBlock)).Evaluate(tokens);

    /// <summary>Decode seconds of one block at <paramref name="contextTokens"/> tokens of context.</summary>
    public double DecodeSeconds(double contextTokens) => (_decode ??= Curve(DecodeSecondsPerBlock)).Evaluate(contextTokens);

    /// <summary>Slowdown of each session's steps when <paramref name="sessions"/> step at once (1 for one).</summary>
    public double Slowdown(int sessions) => sessions <= 1 ? 1 : Math.Max(1, (_slowdown ??= Curve(ConcurrencySlowdown)).Evaluate(sessions));

    /// <summary>Cost of a batched decode step of <paramref name="rows"/> one-token rows over one row's (1 for one row, or without <see cref="DecodeBatchCost"/>: <paramref name="rows"/>, no gain).</summary>
    public double BatchCost(int rows) => rows <= 1 ? 1
        : DecodeBatchCost is { Count: > 0 } points ? Math.Max(1, (_batchCost ??= Curve(points)).Evaluate(rows)) : rows;

    /// <inheritdoc />
    public double BlocksSeconds(int blockCount, in BatchShape batch)
    {
        if (blockCount <= 0 || batch.IsEmpty)
        {
            return 0;
        }

        var seconds = 0.0;
        if (batch.PrefillRequests > 0)
        {
            seconds += batch.PrefillRequests * PrefillSeconds((int)Math.Max(1, batch.PrefillTokens / batch.PrefillRequests));
        }

        if (batch.DecodeRequests > 0)
        {
            seconds += batch.DecodeRequests * DecodeSeconds((double)batch.DecodeContextTokens / batch.DecodeRequests);
        }

        return blockCount * seconds;
    }

    /// <inheritdoc />
    public double HeadSeconds(in BatchShape batch) => (batch.PrefillRequests * HeadPrefillSeconds) + (batch.DecodeRequests * HeadDecodeSeconds);

    /// <summary>Writes the profile as JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>Reads and checks a profile.</summary>
    /// <exception cref="StrataException">The file is missing, not JSON, not a runtime profile, or a field is out of range; the message names the file and field.</exception>
    public static RuntimeProfile Load(string path)
    {
        RuntimeProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize<RuntimeProfile>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StrataException($"Cannot read the device profile '{path}': {e.Message}");
        }
        catch (JsonException e)
        {
            throw new StrataException($"The device profile '{path}' is not a runtime profile ({e.Message}); write one with 'strata profile runtime'.");
        }

        return (profile ?? throw new StrataException($"The device profile '{path}' is empty; write one with 'strata profile runtime'.")).Validate(path);
    }

    /// <summary>Checks every field; <paramref name="origin"/> names the file in messages.</summary>
    /// <exception cref="StrataException">A field is out of range.</exception>
    public RuntimeProfile Validate(string origin)
    {
        if (Kind != KindName || Version != 1)
        {
            throw new StrataException($"'{origin}': kind '{Kind}' version {Version}; expected '{KindName}' version 1 (from 'strata profile runtime').");
        }

        if (LayerCount < 1 || Repetitions < 1 || WarmupIterations < 0)
        {
            throw new StrataException($"'{origin}': layerCount {LayerCount}, repetitions {Repetitions} and warmupIterations {WarmupIterations}; expected >= 1, >= 1 and >= 0.");
        }

        Check(origin, "prefillSecondsPerBlock", PrefillSecondsPerBlock);
        Check(origin, "decodeSecondsPerBlock", DecodeSecondsPerBlock);
        Check(origin, "concurrencySlowdown", ConcurrencySlowdown);
        if (DecodeBatchCost is not null)
        {
            Check(origin, "decodeBatchCost", DecodeBatchCost);
        }

        if (PrefillConcurrency is not null)
        {
            Check(origin, "prefillConcurrency", PrefillConcurrency);
        }

        if (DelayedStepExtraPerBlock is not null)
        {
            Check(origin, "delayedStepExtraPerBlock", DelayedStepExtraPerBlock);
        }

        if (LogicalProcessors < 0 || !double.IsFinite(DecodeBatchWaitSeconds) || DecodeBatchWaitSeconds < 0 || !double.IsFinite(DecodeReturnWaitSeconds) || DecodeReturnWaitSeconds < 0
            || !double.IsFinite(DelayedStepExtraSeconds) || DelayedStepExtraSeconds < 0 || !double.IsFinite(SessionOpenSeconds) || SessionOpenSeconds < 0)
        {
            throw new StrataException($"'{origin}': logicalProcessors {LogicalProcessors}, decodeBatchWaitSeconds {DecodeBatchWaitSeconds}, decodeReturnWaitSeconds {DecodeReturnWaitSeconds}, delayedStepExtraSeconds {DelayedStepExtraSeconds} and sessionOpenSeconds {SessionOpenSeconds}; expected >= 0 (0: not recorded) and finite numbers of seconds >= 0.");
        }
        foreach (var (name, value) in new[] { ("headPrefillSeconds", HeadPrefillSeconds), ("headDecodeSeconds", HeadDecodeSeconds), ("hopOverheadSeconds", HopOverheadSeconds) })
        {
            if (!double.IsFinite(value) || value < 0)
            {
                throw new StrataException($"'{origin}': {name} is {value}; expected a finite number of seconds >= 0.");
            }
        }

        return this;
    }

    private static void Check(string origin, string field, IReadOnlyList<RuntimeProfilePoint>? points)
    {
        if (points is null || points.Count == 0)
        {
            throw new StrataException($"'{origin}': {field} is empty; expected at least one point.");
        }

        foreach (var point in points)
        {
            if (point is null || point.Size < 1 || !double.IsFinite(point.Value) || point.Value < 0)
            {
                throw new StrataException($"'{origin}': {field} has a point {point}; expected size >= 1 and a finite value >= 0.");
            }
        }

        if (points.Select(p => p.Size).Distinct().Count() != points.Count)
        {
            throw new StrataException($"'{origin}': {field} lists a size twice; expected one point per size.");
        }
    }

    private static PiecewiseLinear Curve(IReadOnlyList<RuntimeProfilePoint> points) => new(points.Select(p => ((double)p.Size, p.Value)));
}
