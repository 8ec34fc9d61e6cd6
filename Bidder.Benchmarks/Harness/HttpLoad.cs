using System.Diagnostics;

namespace Bidder.Benchmarks.Harness;

/// <summary>Closed-loop HTTP load: workers each send the next request as soon as the last one is answered.</summary>
public static class HttpLoad
{
    public const int Concurrency = 64;

    /// <summary>The window's successes and failures; and the server's CPU time per answered request in it, when asked for.</summary>
    public sealed record Outcome(long Succeeded, long Failed, double Seconds, TimeSpan? CpuPerRequest)
    {
        public double PerSecond => Succeeded / Seconds;
    }

    /// <summary>
    /// Runs <paramref name="send"/> (true: success) from <see cref="Concurrency"/> workers for a warm-up
    /// second, then counts over <paramref name="window"/>. With <paramref name="serverCpuTime"/> (the server's CPU
    /// time so far), it is read as the window opens and as it closes, for the CPU time per request of the window.
    /// </summary>
    public static async Task<Outcome> RunAsync(Func<long, Task<bool>> send, TimeSpan window, Func<TimeSpan>? serverCpuTime = null)
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
        var cpuAtStart = serverCpuTime?.Invoke();
        var left = end - clock.Elapsed;
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left);
        }

        var cpuAtEnd = serverCpuTime?.Invoke();
        await Task.WhenAll(workers);

        var answered = succeeded + failed;
        var cpuPerRequest = cpuAtEnd - cpuAtStart is { } cpu && cpu > TimeSpan.Zero && answered > 0 ? cpu / answered : (TimeSpan?)null;
        return new Outcome(succeeded, failed, (end - started).TotalSeconds, cpuPerRequest);
    }
}
