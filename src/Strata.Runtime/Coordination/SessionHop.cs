using Strata.Core.Placement;

namespace Strata.Runtime.Coordination;

/// <summary>One hop of a coordinated session: a server (or this process) running a block range under its own session id.</summary>
/// <param name="ServerId">The server's registry id, or <c>local</c>.</param>
/// <param name="Url">The server's address; null for blocks run in this process.</param>
/// <param name="Blocks">Blocks of the hop.</param>
/// <param name="SessionId">The session id on that server (one per hop, so a server used twice keeps separate caches).</param>
internal sealed record SessionHop(string ServerId, Uri? Url, BlockRange Blocks, string SessionId)
{
    /// <summary>Whether the hop runs in this process.</summary>
    public bool IsLocal => Url is null;
}
