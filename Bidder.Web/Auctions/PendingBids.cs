using System.Collections.Concurrent;

namespace Bidder.Web.Auctions;

/// <summary>A bid this app posted, shown as pending until the streamer has decided it.</summary>
public sealed record PostedBid(BidView Bid, string ItemName, string Currency);

/// <summary>
/// The bids each person posted from this app and the streamer has not decided yet (the API lists processed bids
/// only), so "My bids" can show them as pending on any page of the session. Bounded: the newest
/// <see cref="PerUser"/> per person, for <see cref="KeptFor"/>.
/// </summary>
public sealed class PendingBids(TimeProvider time)
{
    public const int PerUser = 50;
    public static readonly TimeSpan KeptFor = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<Guid, List<(DateTimeOffset At, PostedBid Posted)>> _byUser = new();
    private DateTimeOffset _swept;

    /// <summary>Raised with the user whose pending bids changed (one was posted or decided).</summary>
    public event Action<Guid>? Changed;

    public void Add(Guid userId, PostedBid posted)
    {
        Forget();
        var list = _byUser.GetOrAdd(userId, _ => []);
        lock (list)
        {
            list.RemoveAll(entry => time.GetUtcNow() - entry.At > KeptFor);
            list.Add((time.GetUtcNow(), posted));
            if (list.Count > PerUser)
            {
                list.RemoveRange(0, list.Count - PerUser);
            }
        }

        Changed?.Invoke(userId);
    }

    /// <summary>People whose bids have all been decided or expired take no memory (swept once a minute, not per bid).</summary>
    private void Forget()
    {
        var now = time.GetUtcNow();
        if (now - _swept < TimeSpan.FromMinutes(1))
        {
            return;
        }

        _swept = now;
        foreach (var (user, list) in _byUser)
        {
            lock (list)
            {
                list.RemoveAll(entry => time.GetUtcNow() - entry.At > KeptFor);
                if (list.Count == 0)
                {
                    _byUser.TryRemove(new KeyValuePair<Guid, List<(DateTimeOffset, PostedBid)>>(user, list));
                }
            }
        }
    }

    public IReadOnlyList<PostedBid> For(Guid userId)
    {
        if (!_byUser.TryGetValue(userId, out var list))
        {
            return [];
        }

        lock (list)
        {
            return [.. list.Where(entry => time.GetUtcNow() - entry.At <= KeptFor).Select(entry => entry.Posted).Reverse()];
        }
    }

    public void Decided(Guid userId, Guid bidId)
    {
        if (_byUser.TryGetValue(userId, out var list))
        {
            lock (list)
            {
                list.RemoveAll(entry => entry.Posted.Bid.Id == bidId);
            }

            Changed?.Invoke(userId);
        }
    }

    /// <summary>
    /// Asks the API until the streamer has decided the bid (usually well under a second), backing off to once a
    /// second; null when it is still undecided after <paramref name="giveUpAfter"/>.
    /// </summary>
    public static async Task<BidView?> WaitForDecisionAsync(AuctionApi api, Guid bidId, TimeSpan giveUpAfter, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(150);
        var deadline = DateTimeOffset.UtcNow + giveUpAfter;
        while (DateTimeOffset.UtcNow < deadline)
        {
            var result = await api.GetBidAsync(bidId, cancellationToken);
            if (result is { Succeeded: true, Value: { } decided })
            {
                return decided;
            }

            if (result.Status is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden)
            {
                // Asking again will not help: the sign-in is over.
                return null;
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 1000));
        }

        return null;
    }
}
