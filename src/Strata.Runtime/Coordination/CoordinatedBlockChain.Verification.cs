using System.Security.Cryptography;
using Strata.Runtime.Verification;

namespace Strata.Runtime.Coordination;

/// <summary>What the chain's sessions checked: replies rejected, spot checks run or skipped, liars caught.</summary>
public sealed partial class CoordinatedBlockChain
{
    private readonly ulong _verifySeed = NewVerifySeed();
    private int _rejectedReplies;
    private int _spotChecks;
    private int _spotChecksSkipped;
    private int _liarsCaught;

    /// <summary>Replies rejected (non-finite, outside the activation envelope, or outvoted in a spot check) over every session so far.</summary>
    public int RejectedReplies => Volatile.Read(ref _rejectedReplies);

    /// <summary>Steps compared against a second replica (or the client's own weights) over every session so far.</summary>
    public int SpotChecks => Volatile.Read(ref _spotChecks);

    /// <summary>Steps drawn for a spot check that could not be checked (no other replica, no local weights, inputs not recorded).</summary>
    public int SpotChecksSkipped => Volatile.Read(ref _spotChecksSkipped);

    /// <summary>Servers found lying by a spot check (the primary or the verifier) over every session so far.</summary>
    public int LiarsCaught => Volatile.Read(ref _liarsCaught);

    internal ActivationEnvelope Envelope => Options.Envelope ?? (field ??= ActivationEnvelope.Generic(Model.Config.LayerCount));

    internal ulong VerifySeedFor(string sessionId) => DeterministicRandomSeed(Options.VerifySeed ?? _verifySeed, sessionId);

    internal void CountRejectedReply() => Interlocked.Increment(ref _rejectedReplies);

    internal void CountSpotCheck() => Interlocked.Increment(ref _spotChecks);

    internal void CountSpotCheckSkipped() => Interlocked.Increment(ref _spotChecksSkipped);

    internal void CountLiarCaught() => Interlocked.Increment(ref _liarsCaught);

    private static ulong DeterministicRandomSeed(ulong seed, string name) => Sampling.DeterministicRandom.DeriveSeed(seed, name);

    // Unpredictable to servers by design: a server that could predict which steps are checked would lie on the others.
    private static ulong NewVerifySeed() => BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(sizeof(ulong)));
}
