using System.Text.Json;
using Bidder.Core.Kafka;
using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// Rebuilds one partition of the item table from the item-changelog topic: reads that partition from its
/// start to its end as it stands now, keeping each item's newest state (the highest version, then the latest
/// source offset), not merely its last record: two replicas around a rebalance can leave an item's records
/// out of order. Open auctions only: a tombstone (sent after a closed state) ends an item for good, whatever
/// comes after it, and a closed state leaves too. Runs on every assignment, before the partition's bids are processed; gives up with a
/// <see cref="TimeoutException"/> after <see cref="Deadline"/>, and the caller retries.
/// </summary>
public sealed partial class ChangelogRestorer(
    KafkaConsumerFactory<string, byte[]> consumers,
    IOptions<KafkaTopicsOptions> topics,
    ILogger<ChangelogRestorer> logger)
{
    private static readonly TimeSpan WatermarkTimeout = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public Dictionary<Guid, ItemTableEntry> Restore(int partition)
    {
        var deadline = DateTime.UtcNow + Deadline;
        var topic = topics.Value.ItemChangelog.Name;
        // The streamer's own consumer settings (security included), reading one partition by assignment.
        using var consumer = consumers.Create(config =>
        {
            config.GroupId = $"{config.GroupId}-restore";
            config.EnableAutoCommit = false;
            config.EnablePartitionEof = true;
        });

        var topicPartition = new TopicPartition(topic, partition);
        var watermarks = consumer.QueryWatermarkOffsets(topicPartition, WatermarkTimeout);
        var rows = new Dictionary<Guid, ItemTableEntry>();
        if (watermarks.High.Value <= watermarks.Low.Value)
        {
            return rows;
        }

        consumer.Assign(new TopicPartitionOffset(topicPartition, watermarks.Low));
        var records = 0;
        // Items whose tombstone was read: closed for good, so no record after it (a late one from a replica that lost
        // the partition) brings them back.
        var gone = new HashSet<Guid>();
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            var result = left > TimeSpan.Zero ? consumer.Consume(left) : null;
            if (result is null)
            {
                throw new TimeoutException($"Restoring item-table partition {partition} took longer than {Deadline.TotalSeconds:0} s ({records} record(s) read).");
            }

            if (result.IsPartitionEOF)
            {
                break;
            }

            records++;
            if (result.Message.Value is null)
            {
                // A tombstone: the item closed and left the table (its closed state came before it).
                if (Guid.TryParse(result.Message.Key, out var closed))
                {
                    rows.Remove(closed);
                    gone.Add(closed);
                }
            }
            else if (Read(result.Message.Value) is { } record && record.ToEntry() is { } entry && !gone.Contains(record.ItemId))
            {
                if (entry.IsNewerThan(rows.GetValueOrDefault(record.ItemId)))
                {
                    rows[record.ItemId] = entry;
                }
            }

            if (result.Offset.Value >= watermarks.High.Value - 1)
            {
                break;
            }
        }

        // Open auctions only (ItemTable): a closed state without its tombstone (sent before tombstones were) leaves too.
        foreach (var closed in rows.Where(r => r.Value.State.IsClosed).Select(r => r.Key).ToList())
        {
            rows.Remove(closed);
        }

        LogRestored(partition, rows.Count, records);
        return rows;
    }

    private ItemChangelogMessage? Read(byte[]? value)
    {
        try
        {
            return value is null ? null : JsonSerializer.Deserialize(value, PipelineJson.Default.ItemChangelogMessage);
        }
        catch (JsonException ex)
        {
            LogUnreadable(ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored item-table partition {Partition}: {Items} item(s) from {Records} changelog record(s).")]
    private partial void LogRestored(int partition, int items, int records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an unreadable item-changelog record: {Reason}")]
    private partial void LogUnreadable(string reason);
}
