namespace Strata.Runtime.Coordination;

/// <summary>A server clients reported for a rejected reply: the first reason, where it served, and who reported it.</summary>
/// <param name="ServerId">The server's id.</param>
/// <param name="Url">Its URL when first reported.</param>
/// <param name="Reason">The first report's reason.</param>
/// <param name="Reporters">Distinct reporters (peer hosts) so far.</param>
public sealed record QuarantineRecord(string ServerId, Uri Url, string Reason, IReadOnlySet<string> Reporters);
