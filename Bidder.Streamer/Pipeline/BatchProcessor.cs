using Bidder.Core.Contracts;
using Bidder.Core.Domain;
using Bidder.Core.Storage;

namespace Bidder.Streamer.Pipeline;

/// <summary>What one batch comes to: the database writes, the topic records, and the table rows to keep once all are durable.</summary>
public sealed class BatchOutcome
{
    public List<Bid> Bids { get; } = [];

    /// <summary>Rejects with their record key: the item id, or for an undecodable message the key it came with.</summary>
    public List<(string? Key, InvalidBidMessage Message)> Invalid { get; } = [];

    /// <summary>The last row of each item the batch changed, in order of first change.</summary>
    public Dictionary<(int Partition, Guid ItemId), ItemTableEntry> Rows { get; } = [];

    public int Accepted { get; set; }

    public Dictionary<string, int> RejectedByReason { get; } = [];

    public int Replayed { get; set; }

    public ProcessedBatch ToDatabaseBatch() => new(Bids, [.. Rows.Select(r => r.Value.ToState(r.Key.ItemId))]);

    public IEnumerable<ItemChangelogMessage> Changelog => Rows.Select(r => r.Value.ToChangelog(r.Key.ItemId));
}

/// <summary>What the database knows about a batch's bids, users and items, read in one round trip each.</summary>
public sealed record BatchLookups(IReadOnlySet<Guid> Users, IReadOnlyDictionary<Guid, Item> Items, IReadOnlyDictionary<Guid, Bid> Recorded);

/// <summary>
/// Stages 2 and 3, validate and route: each decoded bid against the rules and the item table, in offset
/// order. Pure: it reads the table but does not change it, so a batch that fails can be processed again
/// from the start. A bid the database already recorded is a replay (after a crash or a rebalance): it is
/// not evaluated or counted again; its outputs are produced again so that none is missing downstream.
/// </summary>
public sealed class BatchProcessor(BidRules rules, ItemTable table)
{
    public BatchOutcome Process(IReadOnlyList<DecodedBid> batch, BatchLookups lookups, DateTimeOffset now)
    {
        var outcome = new BatchOutcome();
        var seen = new HashSet<Guid>();

        foreach (var decoded in batch)
        {
            if (decoded.Bid is not { } message)
            {
                Reject(outcome, decoded.Source.Message.Key, Malformed(decoded, now), RejectReason.Malformed);
                continue;
            }

            if (!seen.Add(message.Id))
            {
                continue;
            }

            var partition = decoded.Source.Partition.Value;
            var offset = decoded.Source.Offset.Value;
            var row = Row(outcome, lookups, partition, message.ItemId);

            if (lookups.Recorded.TryGetValue(message.Id, out var recorded))
            {
                outcome.Replayed++;
                if (recorded.Status == BidStatus.Rejected)
                {
                    outcome.Invalid.Add((message.ItemId.ToString(), new InvalidBidMessage(message, recorded.Reason!, recorded.Detail ?? "", recorded.CreatedDate)));
                }
                else if (row is not null && offset > row.SourceOffset)
                {
                    // The database has this win but the restored table does not yet: the changelog write was lost.
                    outcome.Rows[(partition, message.ItemId)] = row.After(recorded, offset, recorded.CreatedDate);
                }

                continue;
            }

            var bid = message.ToPostedBid();
            lookups.Items.TryGetValue(bid.ItemId, out var item);
            var verdict = rules.Evaluate(bid, lookups.Users.Contains(bid.UserId), item, row?.WinningBid ?? 0m);
            var processed = new Bid(bid.Id, bid.ItemId, bid.UserId, bid.Value, bid.Client, bid.BidDate, now,
                verdict.IsAccepted ? BidStatus.Accepted : BidStatus.Rejected, verdict.Reason, verdict.Detail);
            outcome.Bids.Add(processed);

            if (verdict.IsAccepted)
            {
                outcome.Accepted++;
                outcome.Rows[(partition, bid.ItemId)] = row!.After(processed, offset, now);
            }
            else
            {
                Reject(outcome, message.ItemId.ToString(), new InvalidBidMessage(message, verdict.Reason!, verdict.Detail!, now), verdict.Reason!);
            }
        }

        return outcome;
    }

    /// <summary>The item's row as this batch sees it: changed earlier in the batch, else the table's, else the database's.</summary>
    private ItemTableEntry? Row(BatchOutcome outcome, BatchLookups lookups, int partition, Guid itemId) =>
        outcome.Rows.TryGetValue((partition, itemId), out var changed) ? changed
        : table.Find(partition, itemId) is { } kept ? kept
        : lookups.Items.TryGetValue(itemId, out var item) ? ItemTableEntry.FromDatabase(item)
        : null;

    private static void Reject(BatchOutcome outcome, string? key, InvalidBidMessage message, string reason)
    {
        outcome.Invalid.Add((key, message));
        outcome.RejectedByReason[reason] = outcome.RejectedByReason.GetValueOrDefault(reason) + 1;
    }

    /// <summary>Enough of an undecodable payload to investigate it, bounded so a huge one cannot oversize the reject.</summary>
    public const int MaxRawBytes = 4096;

    private static InvalidBidMessage Malformed(DecodedBid decoded, DateTimeOffset now) => new(
        null, RejectReason.Malformed, decoded.Problem!, now,
        Raw: Convert.ToBase64String((decoded.Source.Message.Value ?? []).AsSpan(0, Math.Min(MaxRawBytes, decoded.Source.Message.Value?.Length ?? 0))),
        Partition: decoded.Source.Partition.Value,
        Offset: decoded.Source.Offset.Value);
}
