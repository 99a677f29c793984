using Strata.Planning.Routing;

namespace Strata.Simulation.Swarm;

/// <summary>The live load as routing policies see it.</summary>
public sealed partial class SwarmSimulator
{
    private sealed class LoadView(SwarmSimulator simulator) : ISwarmLoad
    {
        private readonly List<(double Release, int Slots)> _scratch = [];

        public bool IsAlive(int server) => simulator._alive[server];

        public int FreeSlots(int server) => simulator._freeSlots[server];

        public int AnnouncedFreeSlots(int server) => simulator._options.AnnouncePeriodSeconds > 0 ? simulator._announced[server] : simulator._freeSlots[server];

        public bool IsBanned(int client, int server, double nowSeconds) =>
            simulator._bans.TryGetValue((client, server), out var ban) && ban.Until > nowSeconds;

        public double SlotsFreeAtSeconds(int server, int slots, double nowSeconds)
        {
            // Routed-but-waiting sessions have committed their slots: they count ahead of a newcomer, holding their
            // slots until their own expected release.
            var free = simulator._freeSlots[server];
            foreach (var session in simulator._pending)
            {
                for (var h = session.HeldHops; h < session.Hops.Count; h++)
                {
                    if (session.Hops[h].Server == server)
                    {
                        free -= session.Hops[h].Blocks.Count;
                    }
                }
            }

            if (free >= slots)
            {
                return nowSeconds;
            }

            if (simulator._capacity[server] < slots)
            {
                return double.PositiveInfinity;
            }

            _scratch.Clear();
            foreach (var session in simulator._holders[server])
            {
                foreach (var hop in session.Hops)
                {
                    if (hop.Server == server)
                    {
                        _scratch.Add((session.Running || session.Pending ? session.ExpectedReleaseSeconds : double.PositiveInfinity, hop.Blocks.Count));
                    }
                }
            }

            foreach (var session in simulator._pending)
            {
                for (var h = session.HeldHops; h < session.Hops.Count; h++)
                {
                    if (session.Hops[h].Server == server)
                    {
                        _scratch.Add((session.ExpectedReleaseSeconds, session.Hops[h].Blocks.Count));
                    }
                }
            }

            _scratch.Sort(static (a, b) => a.Release.CompareTo(b.Release));
            foreach (var (release, count) in _scratch)
            {
                free += count;
                if (free >= slots)
                {
                    return Math.Max(nowSeconds, release);
                }
            }

            return double.PositiveInfinity;
        }
    }
}
