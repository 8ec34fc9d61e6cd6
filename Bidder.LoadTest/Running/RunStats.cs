using System.Collections.Concurrent;
using System.Net;
using Bidder.LoadTest.Scenarios;

namespace Bidder.LoadTest.Running;

/// <summary>
/// Counts and latencies of one request kind during the load. A 429 is neither a success nor an error: it is the
/// server protecting itself by its rate limits (the tool's requests all come from one address, and its users bid
/// far more often than people do), so it is counted on its own, and its near-instant answer is kept out of the
/// latencies, where it would make a limited system look fast.
/// </summary>
internal sealed class KindStats
{
    private long _requests;
    private long _errors;
    private long _rateLimited;

    public LatencyHistogram Latency { get; } = new();

    /// <summary>Every outcome, success or not: 202 and 503 alike, or timeout and network error.</summary>
    public ConcurrentDictionary<int, long> ByStatus { get; } = new();

    public long Requests => Volatile.Read(ref _requests);

    public long Errors => Volatile.Read(ref _errors);

    /// <summary>Requests refused with 429.</summary>
    public long RateLimited => Volatile.Read(ref _rateLimited);

    /// <returns>Whether the request's latency counts.</returns>
    public bool Record(int status, TimeSpan elapsed, bool success)
    {
        Interlocked.Increment(ref _requests);
        ByStatus.AddOrUpdate(status, 1, static (_, count) => count + 1);
        if (status == (int)HttpStatusCode.TooManyRequests)
        {
            Interlocked.Increment(ref _rateLimited);
            return false;
        }

        if (!success)
        {
            Interlocked.Increment(ref _errors);
        }

        // Time spent waiting for an answer that never came says nothing about the server's latency.
        if (status >= 100)
        {
            Latency.Record(elapsed);
            return true;
        }

        return false;
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

    public long RateLimited => _kinds.Sum(k => k.RateLimited);

    public void Record(RequestKind kind, int status, TimeSpan elapsed, bool success)
    {
        if (_kinds[(int)kind].Record(status, elapsed, success))
        {
            AllLatency.Record(elapsed);
        }
    }
}
