using System.Collections.Concurrent;
using Bidder.LoadTest.Scenarios;

namespace Bidder.LoadTest.Running;

/// <summary>Counts and latencies of one request kind during the load.</summary>
internal sealed class KindStats
{
    private long _requests;
    private long _errors;

    public LatencyHistogram Latency { get; } = new();

    /// <summary>Every outcome, success or not: 202 and 503 alike, or timeout and network error.</summary>
    public ConcurrentDictionary<int, long> ByStatus { get; } = new();

    public long Requests => Volatile.Read(ref _requests);

    public long Errors => Volatile.Read(ref _errors);

    public void Record(int status, TimeSpan elapsed, bool success)
    {
        Interlocked.Increment(ref _requests);
        if (!success)
        {
            Interlocked.Increment(ref _errors);
        }

        // Time spent waiting for an answer that never came says nothing about the server's latency.
        if (status >= 100)
        {
            Latency.Record(elapsed);
        }

        ByStatus.AddOrUpdate(status, 1, static (_, count) => count + 1);
    }
}

/// <summary>The load phase's numbers, recorded from every worker at once without locks.</summary>
internal sealed class RunStats
{
    private readonly KindStats[] _kinds = [.. RequestKinds.All.Select(_ => new KindStats())];

    public LatencyHistogram AllLatency { get; } = new();

    public KindStats this[RequestKind kind] => _kinds[(int)kind];

    public long Requests => _kinds.Sum(k => k.Requests);

    public long Errors => _kinds.Sum(k => k.Errors);

    public void Record(RequestKind kind, int status, TimeSpan elapsed, bool success)
    {
        _kinds[(int)kind].Record(status, elapsed, success);
        if (status >= 100)
        {
            AllLatency.Record(elapsed);
        }
    }
}
