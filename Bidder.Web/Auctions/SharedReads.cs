using System.Collections.Concurrent;

namespace Bidder.Web.Auctions;

/// <summary>
/// What every page of this process that shows an item reads again after a live change (its public state and its
/// bid history), read once per item version and shared: a bid on a popular item costs the API two reads per web
/// process, not two per open page. Anonymous reads (the public view). Bounded to <see cref="MaxItems"/> items.
/// </summary>
public sealed class SharedReads(IHttpClientFactory clients)
{
    public const int MaxItems = 1_000;

    private readonly ConcurrentDictionary<Guid, Reads> _latest = new();
    private readonly AuctionApi _api = new(clients.CreateClient(nameof(AuctionApi)));

    private sealed record Reads(long Version, Lazy<Task<ApiResult<ItemView>>> Item, Lazy<Task<ApiResult<PageView<BidView>>>> Bids);

    /// <summary>The item's public state and bid history as of <paramref name="version"/> or later.</summary>
    public async Task<(ApiResult<ItemView> Item, ApiResult<PageView<BidView>> Bids)> ReadAsync(Guid itemId, long version)
    {
        var reads = _latest.AddOrUpdate(itemId, _ => Start(itemId, version), (_, known) => known.Version >= version ? known : Start(itemId, version));
        if (_latest.Count > MaxItems)
        {
            foreach (var stale in _latest.Keys.Where(id => id != itemId).Take(_latest.Count - MaxItems))
            {
                _latest.TryRemove(stale, out _);
            }
        }

        var item = await reads.Item.Value;
        var bids = await reads.Bids.Value;
        if (!item.Succeeded || !bids.Succeeded)
        {
            // A failed read is not shared with the next change.
            _latest.TryRemove(new KeyValuePair<Guid, Reads>(itemId, reads));
        }

        return (item, bids);
    }

    private Reads Start(Guid itemId, long version) => new(
        version,
        new Lazy<Task<ApiResult<ItemView>>>(() => _api.GetItemAsync(itemId, CancellationToken.None)),
        new Lazy<Task<ApiResult<PageView<BidView>>>>(() => _api.ListItemBidsAsync(itemId, CancellationToken.None)));
}
