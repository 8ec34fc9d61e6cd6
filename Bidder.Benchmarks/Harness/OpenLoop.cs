using System.Diagnostics;

namespace Bidder.Benchmarks.Harness;

/// <summary>Open-loop arrivals: request k starts at k/rate whatever happened to the earlier ones.</summary>
public static class OpenLoop
{
    public static async Task RunAsync(int perSecond, TimeSpan window, Func<long, Task> start)
    {
        var total = (long)(perSecond * window.TotalSeconds);
        var running = new List<Task>((int)total);
        var clock = Stopwatch.StartNew();
        for (long k = 0; k < total; k++)
        {
            var ahead = TimeSpan.FromSeconds((double)k / perSecond) - clock.Elapsed;
            if (ahead > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(ahead);
            }

            running.Add(start(k));
        }

        await Task.WhenAll(running);
    }
}
