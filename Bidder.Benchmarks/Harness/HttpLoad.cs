using System.Diagnostics;

namespace Bidder.Benchmarks.Harness;

/// <summary>Closed-loop HTTP load: workers each send the next request as soon as the last one is answered.</summary>
public static class HttpLoad
{
    public const int Concurrency = 64;

    public sealed record Outcome(long Succeeded, long Failed, double Seconds)
    {
        public double PerSecond => Succeeded / Seconds;
    }

    /// <summary>
    /// Runs <paramref name="send"/> (true: success) from <see cref="Concurrency"/> workers for a warm-up
    /// second, then counts over <paramref name="window"/>.
    /// </summary>
    public static async Task<Outcome> RunAsync(Func<long, Task<bool>> send, TimeSpan window)
    {
        var warmUp = TimeSpan.FromSeconds(1);
        long sequence = 0, succeeded = 0, failed = 0;
        var counting = false;
        var clock = Stopwatch.StartNew();
        var end = warmUp + window;
        var workers = Enumerable.Range(0, Concurrency).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < end)
            {
                var ok = await send(Interlocked.Increment(ref sequence));
                if (Volatile.Read(ref counting) && clock.Elapsed < end)
                {
                    Interlocked.Increment(ref ok ? ref succeeded : ref failed);
                }
            }
        })).ToList();

        await Task.Delay(warmUp);
        Volatile.Write(ref counting, true);
        var started = clock.Elapsed;
        await Task.WhenAll(workers);
        return new Outcome(succeeded, failed, (end - started).TotalSeconds);
    }
}
