using System.Diagnostics;
using Bidder.LoadTest.Options;
using Bidder.LoadTest.Scenarios;

namespace Bidder.LoadTest.Running;

/// <summary>
/// Sends the load: --concurrency workers take request numbers from one counter. In the open loop request N is
/// due at start + N / rate, whatever happened to the ones before (so a slow server cannot slow the arrivals
/// down, up to --concurrency in flight); a worker that takes a number already past due starts at once and the
/// lag is counted. In the closed loop every worker sends its next request as soon as the last one answered.
/// </summary>
internal sealed class LoadRunner(LoadTestOptions options, Workload workload)
{
    // A start later than this behind its schedule means the tool could not keep up the rate.
    private static readonly TimeSpan LateThreshold = TimeSpan.FromMilliseconds(100);

    private long _nextSequence;
    private long _lateStarts;
    private long _maxLagTicks;
    private long _startTimestamp;
    private long _inFlight;

    public TimeSpan Elapsed => _startTimestamp == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_startTimestamp);

    public long InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Requests that started more than 100 ms behind the open loop's schedule.</summary>
    public long LateStarts => Volatile.Read(ref _lateStarts);

    public TimeSpan MaxLag => TimeSpan.FromTicks(Volatile.Read(ref _maxLagTicks));

    /// <param name="stop">Stops sending new requests (Ctrl+C); requests in flight still finish, their bids are checked.</param>
    /// <param name="abort">Cancels the requests in flight too.</param>
    /// <returns>How long the load ran.</returns>
    public async Task<TimeSpan> RunAsync(CancellationToken stop, CancellationToken abort)
    {
        _startTimestamp = Stopwatch.GetTimestamp();
        var workers = new Task[options.Concurrency];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = Task.Run(() => WorkAsync(stop, abort), CancellationToken.None);
        }

        await Task.WhenAll(workers);
        return Elapsed;
    }

    private async Task WorkAsync(CancellationToken stop, CancellationToken abort)
    {
        var ticksPerRequest = options.OpenLoop ? Stopwatch.Frequency / options.Rate : 0;
        var endTimestamp = options.Duration is { } duration ? _startTimestamp + (long)(duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;

        while (!stop.IsCancellationRequested)
        {
            var sequence = Interlocked.Increment(ref _nextSequence) - 1;
            if (options.Requests is { } limit && sequence >= limit)
            {
                return;
            }

            if (options.OpenLoop)
            {
                // Past the end nothing more is sent, not even requests that fell behind their schedule: --duration bounds the run.
                var due = _startTimestamp + (long)(sequence * ticksPerRequest);
                if (due >= endTimestamp || Stopwatch.GetTimestamp() >= endTimestamp)
                {
                    return;
                }

                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
                else
                {
                    NoteLag(-wait);
                }
            }
            else if (Stopwatch.GetTimestamp() >= endTimestamp)
            {
                return;
            }

            Interlocked.Increment(ref _inFlight);
            try
            {
                await workload.ExecuteAsync(sequence, abort);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
    }

    private void NoteLag(TimeSpan lag)
    {
        if (lag > LateThreshold)
        {
            Interlocked.Increment(ref _lateStarts);
        }

        var ticks = lag.Ticks;
        var max = Volatile.Read(ref _maxLagTicks);
        while (ticks > max && Interlocked.CompareExchange(ref _maxLagTicks, ticks, max) != max)
        {
            max = Volatile.Read(ref _maxLagTicks);
        }
    }
}
