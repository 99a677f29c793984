using Strata.Core.Placement;

namespace Strata.Runtime.Engine;

/// <summary>One hop of a generation's route: who ran which blocks.</summary>
/// <param name="Server">Where the blocks ran: <c>local</c>, or a server's address.</param>
/// <param name="Blocks">Blocks of the hop.</param>
public sealed record RouteHop(string Server, BlockRange Blocks);
