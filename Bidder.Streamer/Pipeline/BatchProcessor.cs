using Bidder.Domain.Contracts;
using Bidder.Domain;
using Bidder.Core.Storage;

namespace Bidder.Streamer.Pipeline;

/// <summary>What one batch comes to: the database writes, the topic records, and the table rows to keep once all are durable.</summary>
public sealed class BatchOutcome
{
    public List<Bid> Bids { get; } = [];

    /// <summary>Rejects with their record key: the item id, or for an undecodable message the key it came with.</summary>
    public List<(string? Key, InvalidBidMessage Message)> Invalid { get; } = [];

    /// <summary>
    /// The last row of each item the batch changed (or took from the database), in order of first change; one per
    /// item, under the partition of the bid that first did, whichever partitions its bids came on (a producer
    /// partitioning otherwise than by the item id can put them on several: two rows of one item would be two states
    /// decided apart).
    /// </summary>
    public Dictionary<(int Partition, Guid ItemId), ItemTableEntry> Rows { get; } = [];

    private readonly Dictionary<Guid, int> _partitionOf = [];

    // The version of each changed item's state the batch's decisions started from (ItemBiddingState.DecidedFrom).
    private readonly Dictionary<Guid, long> _decidedFrom = [];

    public int Accepted { get; set; }

    public Dictionary<string, int> RejectedByReason { get; } = [];

    public int Replayed { get; set; }

    /// <summary>Decided without asking the database which bids are recorded (<see cref="BatchLookups.RecordedAsked"/>).</summary>
    public bool BidsAreNew { get; init; }

    public ProcessedBatch ToDatabaseBatch() =>
        new(Bids, [.. Rows.Select(r => r.Value.ToState(r.Key.ItemId, _decidedFrom.TryGetValue(r.Key.ItemId, out var from) ? from : null))]) { BidsAreNew = BidsAreNew };

    /// <summary>The item's row after a decision of this batch changed it from <paramref name="before"/>.</summary>
    public void Change(int partition, Guid itemId, ItemTableEntry before, ItemTableEntry after)
    {
        _decidedFrom.TryAdd(itemId, before.State.Version);
        Set(partition, itemId, after);
    }

    /// <summary>The item's row in this batch, from whichever partition it came.</summary>
    public ItemTableEntry? RowOf(Guid itemId) => _partitionOf.TryGetValue(itemId, out var partition) ? Rows[(partition, itemId)] : null;

    /// <summary>Sets the item's row in this batch, under the partition it has in the batch already, if any.</summary>
    public void Set(int partition, Guid itemId, ItemTableEntry row)
    {
        if (!_partitionOf.TryAdd(itemId, partition))
        {
            partition = _partitionOf[itemId];
        }

        Rows[(partition, itemId)] = row;
    }

    public IEnumerable<ItemChangelogMessage> Changelog => Rows.Select(r => r.Value.ToChangelog(r.Key.ItemId));

    public void Reject(string? key, InvalidBidMessage message)
    {
        Invalid.Add((key, message));
        RejectedByReason[message.Reason] = RejectedByReason.GetValueOrDefault(message.Reason) + 1;
    }
}

/// <summary>
/// What the database knows about a batch's bids, users and items, read in one round trip each.
/// <see cref="Incomplete"/>: recorded bids whose batch a store without atomic batches did not finish.
/// </summary>
public sealed record BatchLookups(
    IReadOnlySet<Guid> Users,
    IReadOnlyDictionary<Guid, Item> Items,
    IReadOnlyDictionary<Guid, Bid> Recorded,
    IReadOnlySet<Guid> Incomplete)
{
    /// <summary>
    /// False when the database was not asked which bids are recorded (<see cref="Recorded"/> holds only those of the
    /// batches being written): the bids are decided as new, and the store refuses the batch should one be recorded.
    /// </summary>
    public bool RecordedAsked { get; init; } = true;
}

/// <summary>
/// Stages 2 and 3, validate and route: each decoded bid against the rules and the item's row, in offset
/// order. Pure: it reads the table but does not change it, so a batch that fails can be processed again.
/// Exactly once rests on one fact, the bid id: a bid the database recorded is never evaluated or counted
/// again, whether it comes back with a replay of the same offsets (after a crash or a rebalance) or as a
/// copy at a new offset (a client's retry); its reject is published again, so none is missing downstream.
/// An item's row is the newest of the batch's, the table's and the database's, so a state the changelog
/// missed is taken from the database and sent again; the winning bid can only rise.
/// A message whose processing throws is set aside as unprocessable; the rest of the batch goes on.
/// </summary>
public sealed class BatchProcessor(BidRules rules, ItemTable table)
{
    /// <summary>Enough of an undecodable payload to investigate it, bounded so a huge one cannot oversize the reject.</summary>
    public const int MaxRawBytes = 4096;

    /// <summary>The longest message key a reject carries on: longer ones (no bid's) are dropped.</summary>
    private const int MaxRejectKeyLength = 256;

    private const int MaxExceptionDetail = 1000;

    /// <summary>Takes a processed batch's rows into the table, once everything it produced is durable.</summary>
    public void Keep(BatchOutcome outcome) => table.Apply(outcome.Rows.Select(r => (r.Key.Partition, r.Key.ItemId, r.Value)));

    /// <summary>
    /// Forgets the rows of items the database refused a batch's state for (<see cref="ItemChangedMeanwhileException"/>):
    /// the item moved on under the table, so the database's state decides again.
    /// </summary>
    public void Forget(IEnumerable<Guid> itemIds) => table.Forget(itemIds);

    /// <summary>
    /// Decides a batch. <paramref name="pending"/>: batches decided before this one and still being written (not
    /// kept in the table yet), newest first; their rows come before the table's, as if those batches were done.
    /// </summary>
    public BatchOutcome Process(IReadOnlyList<DecodedBid> batch, BatchLookups lookups, DateTimeOffset now, IReadOnlyList<BatchOutcome>? pending = null)
    {
        var outcome = new BatchOutcome { BidsAreNew = !lookups.RecordedAsked };
        var seen = new Dictionary<Guid, BidMessage>(batch.Count);
        foreach (var decoded in batch)
        {
            try
            {
                Process(decoded, lookups, now, outcome, seen, pending);
            }
            catch (Exception ex)
            {
                outcome.Reject(RejectKey(decoded), Unprocessable(decoded, ex, now));
            }
        }

        return outcome;
    }

    private void Process(DecodedBid decoded, BatchLookups lookups, DateTimeOffset now, BatchOutcome outcome, Dictionary<Guid, BidMessage> seen, IReadOnlyList<BatchOutcome>? pending)
    {
        if (decoded.Bid is not { } message)
        {
            outcome.Reject(RejectKey(decoded), Malformed(decoded, decoded.Problem!, now));
            return;
        }

        if (seen.TryGetValue(message.Id, out var first))
        {
            // A copy earlier in this batch already had its effect.
            if (first != message)
            {
                outcome.Reject(RejectKey(decoded), Malformed(decoded, ReusedId(message.Id), now));
            }

            return;
        }

        var partition = decoded.Source.Partition.Value;
        var offset = decoded.Source.Offset.Value;
        var row = Row(outcome, lookups, pending, partition, message.ItemId, offset);

        if (lookups.Recorded.TryGetValue(message.Id, out var recorded))
        {
            if (!IsSameBid(recorded, message))
            {
                outcome.Reject(RejectKey(decoded), Malformed(decoded, ReusedId(message.Id), now));
                return;
            }

            seen[message.Id] = message;
            outcome.Replayed++;
            if (lookups.Incomplete.Contains(message.Id))
            {
                // Its batch was cut short: recorded again as decided then. The item holds the bid's effect if its
                // version reached the one the bid produced; else the same rules on the same state decide the same.
                outcome.Bids.Add(recorded);
                if (recorded.ItemVersion is { } version && row is not null && row.State.Version < version
                    && lookups.Items.TryGetValue(message.ItemId, out var changed)
                    && rules.Decide(message.ToPostedBid(), userExists: true, changed, row.State) is { After: { } again } decision
                    && decision.Verdict.Reason == recorded.Reason)
                {
                    outcome.Change(partition, message.ItemId, row, row.After(again, offset, recorded.CreatedDate));
                }
                else if (recorded.ItemVersion is null && recorded.Status == BidStatus.Accepted && row is not null && recorded.Value > row.State.WinningBid)
                {
                    // Recorded before versions (and before automatic bids): the bid made its value the winning bid.
                    outcome.Change(partition, message.ItemId, row, row.After(row.State with
                    {
                        WinningBid = recorded.Value, WinningUserId = recorded.UserId, WinningBidId = recorded.Id, LeaderMax = recorded.Value,
                        Bids = row.State.Bids + 1, Version = row.State.Version + 1,
                    }, offset, recorded.CreatedDate));
                }
            }

            if (recorded.Status == BidStatus.Rejected)
            {
                outcome.Invalid.Add((RejectKey(decoded), new InvalidBidMessage(message, recorded.Reason!, recorded.Detail ?? "", recorded.CreatedDate)));
            }

            return;
        }

        var bid = message.ToPostedBid();
        lookups.Items.TryGetValue(bid.ItemId, out var item);
        var (verdict, after) = rules.Decide(bid, lookups.Users.Contains(bid.UserId), item, row?.State);
        var processed = new Bid(bid.Id, bid.ItemId, bid.UserId, bid.Value, bid.Client, bid.BidDate, now,
            verdict.IsAccepted ? BidStatus.Accepted : BidStatus.Rejected, verdict.Reason, verdict.Detail, bid.MaxValue, after?.Version);

        seen[message.Id] = message;
        outcome.Bids.Add(processed);
        if (after is not null)
        {
            // Accepted, or outbid: either changes the item (an outbid bid raises the leader's price).
            outcome.Change(partition, bid.ItemId, row!, row!.After(after, offset, now));
        }

        if (verdict.IsAccepted)
        {
            outcome.Accepted++;
        }
        else
        {
            outcome.Reject(RejectKey(decoded), new InvalidBidMessage(message, verdict.Reason!, verdict.Detail!, now));
        }
    }

    /// <summary>
    /// The item's row as this batch sees it: changed earlier in the batch, else the newer of the table's (the
    /// newest pending batch's, where one changed the item) and the database's. The database is written before the
    /// changelog, so it is ahead when a crash fell between the two: its state is then taken into the batch, and
    /// so sent to the changelog and the table again.
    /// </summary>
    private ItemTableEntry? Row(BatchOutcome outcome, BatchLookups lookups, IReadOnlyList<BatchOutcome>? pending, int partition, Guid itemId, long offset)
    {
        if (outcome.RowOf(itemId) is { } changed)
        {
            return changed;
        }

        var kept = Pending(pending, itemId) ?? table.Find(partition, itemId);
        if (!lookups.Items.TryGetValue(itemId, out var item))
        {
            return kept;
        }

        if (kept is null && item.ClosedAt is not null)
        {
            // Closed, its row gone from the table and its changelog: the database's final state decides, and is not
            // sent again (that would bring the closed item back into the table, the changelog and every restore).
            return ItemTableEntry.FromDatabase(item, offset);
        }

        // A close in the database is final, whatever version the table holds (a replica that lost the partition
        // may have closed it meanwhile: the store then refuses every later state). Compared on the item itself: most bids
        // find the table ahead, and the database's row is made only when it is taken.
        if (item.StateVersion > (kept?.State.Version ?? 0) || (item.ClosedAt is not null && kept is { State.IsClosed: false }))
        {
            var stored = ItemTableEntry.FromDatabase(item, offset);
            outcome.Set(partition, itemId, stored);
            return stored;
        }

        return kept ?? ItemTableEntry.FromDatabase(item, offset);
    }

    /// <summary>The version of the item's row a batch after <paramref name="pending"/> starts from (theirs, else the table's); null when none holds one.</summary>
    public long? RowVersion(int partition, Guid itemId, IReadOnlyList<BatchOutcome>? pending) =>
        (Pending(pending, itemId) ?? table.Find(partition, itemId))?.State.Version;

    private static ItemTableEntry? Pending(IReadOnlyList<BatchOutcome>? pending, Guid itemId)
    {
        foreach (var batch in pending ?? [])
        {
            if (batch.RowOf(itemId) is { } row)
            {
                return row;
            }
        }

        return null;
    }

    /// <summary>A bid on the topic with the id of a recorded bid is a copy of it only if it is the same bid to the millisecond the stores keep.</summary>
    private static bool IsSameBid(Bid recorded, BidMessage message) =>
        recorded.ItemId == message.ItemId
        && recorded.UserId == message.UserId
        && recorded.Value == message.Value
        && recorded.Client == message.Client
        && recorded.MaxValue == message.MaxValue
        && recorded.BidDate.ToUnixTimeMilliseconds() == message.BidDate.ToUnixTimeMilliseconds();

    private static string ReusedId(Guid id) =>
        $"The field 'id' ({id}) is the id of a different bid already taken; a bid id cannot be reused.";

    /// <summary>What a reject is keyed by: the bid's item, else the message's own key when it is a sensible size.</summary>
    public static string? RejectKey(DecodedBid decoded) =>
        decoded.Bid is { } bid
            // The decoder takes a bid only when its message is keyed by the bid's item: that key is the item id's text.
            ? decoded.Source.Message.Key ?? bid.ItemId.ToString()
            : decoded.Source.Message.Key is { Length: <= MaxRejectKeyLength } key ? key : null;

    public static InvalidBidMessage Malformed(DecodedBid decoded, string problem, DateTimeOffset now) =>
        new(null, RejectReason.Malformed, problem, now, Raw(decoded), decoded.Source.Partition.Value, decoded.Source.Offset.Value);

    /// <summary>A message whose processing threw: set aside with the exception's type, the bid when it decoded, and the raw bytes.</summary>
    public static InvalidBidMessage Unprocessable(DecodedBid decoded, Exception exception, DateTimeOffset now)
    {
        var detail = $"Processing this message failed with {exception.GetType().FullName}: {exception.Message}";
        if (detail.Length > MaxExceptionDetail)
        {
            var cut = char.IsHighSurrogate(detail[MaxExceptionDetail - 1]) ? MaxExceptionDetail - 1 : MaxExceptionDetail;
            detail = detail[..cut] + "…";
        }

        return new(decoded.Bid, RejectReason.Unprocessable, detail, now, Raw(decoded), decoded.Source.Partition.Value, decoded.Source.Offset.Value);
    }

    private static string Raw(DecodedBid decoded)
    {
        var value = decoded.Source.Message.Value ?? [];
        return Convert.ToBase64String(value.AsSpan(0, Math.Min(MaxRawBytes, value.Length)));
    }
}
