using Strata.Simulation.Engine;

namespace Strata.Simulation.Tests.Engine;

/// <summary>The event engine checked against closed forms of single-server queues.</summary>
public sealed class QueueingTheoryTests
{
    private enum Kind : byte { Arrival, Departure }

    private readonly record struct Event(Kind Kind);

    /// <summary>Simulates a FIFO single-server queue and returns the mean wait in queue.</summary>
    private static double MeanWait(double arrivalRate, Func<Random, double> service, int customers, int seed)
    {
        var random = new Random(seed);
        var queue = new EventQueue<Event>();
        var waiting = new Queue<double>();
        var busy = false;
        var served = 0;
        var totalWait = 0.0;
        var arrived = 0;
        queue.Enqueue(-Math.Log(1 - random.NextDouble()) / arrivalRate, new Event(Kind.Arrival));
        while (served < customers && queue.TryDequeue(out var now, out var e))
        {
            if (e.Kind == Kind.Arrival)
            {
                if (++arrived < customers)
                {
                    queue.Enqueue(now - Math.Log(1 - random.NextDouble()) / arrivalRate, new Event(Kind.Arrival));
                }

                if (busy)
                {
                    waiting.Enqueue(now);
                }
                else
                {
                    busy = true;
                    queue.Enqueue(now + service(random), new Event(Kind.Departure));
                }
            }
            else
            {
                served++;
                if (waiting.Count > 0)
                {
                    totalWait += now - waiting.Dequeue();
                    queue.Enqueue(now + service(random), new Event(Kind.Departure));
                }
                else
                {
                    busy = false;
                }
            }
        }

        return totalWait / served;
    }

    [Fact]
    public void MM1_mean_wait_matches_the_closed_form_within_2_percent()
    {
        // M/M/1: Wq = rho / (mu - lambda). lambda = 0.7, mu = 1: Wq = 2.333...
        const double lambda = 0.7, mu = 1.0;
        var expected = lambda / mu / (mu - lambda);
        var measured = MeanWait(lambda, random => -Math.Log(1 - random.NextDouble()) / mu, 2_000_000, seed: 1);
        Assert.InRange(measured, expected * 0.98, expected * 1.02);
    }

    [Fact]
    public void MD1_mean_wait_matches_the_closed_form_within_2_percent()
    {
        // M/D/1 (Pollaczek-Khinchine): Wq = rho / (2 mu (1 - rho)). lambda = 0.7, D = 1: Wq = 1.1666...
        const double lambda = 0.7, serviceSeconds = 1.0;
        var rho = lambda * serviceSeconds;
        var expected = rho * serviceSeconds / (2 * (1 - rho));
        var measured = MeanWait(lambda, _ => serviceSeconds, 2_000_000, seed: 2);
        Assert.InRange(measured, expected * 0.98, expected * 1.02);
    }

    [Fact]
    public void Events_at_the_same_time_leave_in_insertion_order()
    {
        var queue = new EventQueue<int>(capacity: 2);
        for (var i = 0; i < 100; i++)
        {
            queue.Enqueue(i % 3, i);
        }

        var previousTime = double.NegativeInfinity;
        var previousPayload = -1;
        while (queue.TryDequeue(out var time, out var payload))
        {
            Assert.True(time > previousTime || (time == previousTime && payload > previousPayload));
            (previousTime, previousPayload) = (time, payload);
        }
    }
}
