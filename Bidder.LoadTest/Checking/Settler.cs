using System.Diagnostics;
using System.Net;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Scenarios;

namespace Bidder.LoadTest.Checking;

internal readonly record struct SettleResult(TimeSpan Elapsed, int Unprocessed, long Requests, long Errors);

/// <summary>
/// Waits until the streamer has processed every bid the API took: GET /events/{id} answers 404 until then.
/// It sweeps the unprocessed bids oldest first with a few requests in flight; a sweep stops early after a run
/// of 404s (the newer bids are then most likely not processed either) and the next one waits longer, from
/// 100 ms up to 2 s, so that a lagging streamer is polled gently rather than hammered. A bid is its bidder's to
/// see: each is read with its bidder's token.
/// </summary>
internal sealed class Settler(BidderClient api, SignIns signIns, RunLedger ledger, int concurrency)
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestDelay = TimeSpan.FromSeconds(2);

    public async Task<SettleResult> WaitAsync(
        IReadOnlyList<SentBid> bids, BidOutcomes outcomes, TimeSpan timeout, IProgress<(int Processed, int Total)> progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var pending = Enumerable.Range(0, bids.Count).ToArray();
        var missBudget = concurrency * 4;
        var delay = FirstDelay;
        long requests = 0, errors = 0;

        while (pending.Length > 0)
        {
            var misses = 0;
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(pending, parallel, async (index, token) =>
            {
                if (Volatile.Read(ref misses) >= missBudget)
                {
                    return;
                }

                var bidder = ledger.Users[bids[index].User];
                var response = await api.GetBidAsync(bids[index].Id, signIns.AuthorizationFor(bidder), token);
                Interlocked.Increment(ref requests);
                if (response is { Status: (int)HttpStatusCode.OK, Body: { } bid } && bid.Status != "pending")
                {
                    outcomes.Record(index, bid.Status, bid.Reason);
                    return;
                }

                if (response.Status != (int)HttpStatusCode.NotFound)
                {
                    Interlocked.Increment(ref errors);
                    if (response.Status == (int)HttpStatusCode.Unauthorized)
                    {
                        // Read again in a later sweep, with the renewed token.
                        signIns.Renew(bidder);
                    }
                }

                Interlocked.Increment(ref misses);
            });

            var before = pending.Length;
            pending = Array.FindAll(pending, i => outcomes.States[i] == BidState.Pending);
            progress.Report((bids.Count - pending.Length, bids.Count));

            var left = timeout - Stopwatch.GetElapsedTime(started);
            if (pending.Length == 0 || left <= TimeSpan.Zero)
            {
                break;
            }

            delay = pending.Length < before ? FirstDelay : TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestDelay.Ticks));
            await Task.Delay(delay < left ? delay : left, cancellationToken);
        }

        return new SettleResult(Stopwatch.GetElapsedTime(started), pending.Length, requests, errors);
    }
}
