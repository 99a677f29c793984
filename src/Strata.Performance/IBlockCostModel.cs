namespace Strata.Performance;

/// <summary>Per-block costs of one forward pass: what <c>k</c> transformer blocks and what the embedding and LM head take for a batch shape.</summary>
/// <remarks>
/// The sibling of <see cref="IPerformanceModel"/> for planners that place blocks, not whole models (the split and swarm
/// planners, the live cluster's predictor). Implementations are immutable and thread-safe.
/// </remarks>
public interface IBlockCostModel
{
    /// <summary>Where the numbers come from (<c>roofline</c>, <c>measured</c>, <c>runtime-profile</c>).</summary>
    string Name { get; }

    /// <summary>Wall time of <paramref name="blockCount"/> consecutive blocks over <paramref name="batch"/>, seconds (0 for no blocks or an empty batch).</summary>
    double BlocksSeconds(int blockCount, in BatchShape batch);

    /// <summary>Wall time of the embedding, final norm and LM head over <paramref name="batch"/> (logits of each sequence's last token), seconds.</summary>
    double HeadSeconds(in BatchShape batch);
}
