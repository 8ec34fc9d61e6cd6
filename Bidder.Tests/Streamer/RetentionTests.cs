using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Bidder.Domain.Contracts;
using Bidder.Domain;
using Bidder.Tests.Support;
using Confluent.Kafka;

namespace Bidder.Tests.Streamer;

/// <summary>
/// The embedded broker's retention, on an app of its own: flooding one partition also floods that
/// partition of item-changelog and invalid-bids, which would push other tests' records out of the shared app.
/// </summary>
public class RetentionTests
{
    /// <summary>
    /// The embedded broker keeps about 5 MB per partition. With the streamer down while more than that
    /// arrives for one partition, the oldest bids are deleted before it comes back: they cannot be saved,
    /// but the loss must not be silent. The restarted streamer logs it as an error naming the partition
    /// and the count. (Seen failing while a restarted streamer had no baseline for a partition without a
    /// committed offset.)
    /// </summary>
    [Fact]
    [Trait("Category", "Fault")]
    public async Task Bids_deleted_by_retention_while_the_streamer_is_down_are_reported_as_lost()
    {
        await using var app = await EmbeddedApp.StartAsync(["Bidder:Infrastructure=embedded"]);
        using var admin = await app.AdminAsync();
        var http = admin.Api;
        var user = Guid.Parse((await http.CreateUserAsync("retention")).Id());
        var item = Guid.Parse((await http.CreateItemAsync(initBid: 1m)).Id());
        var bootstrapServers = (await app.GetConnectionStringAsync("kafka", TestContext.Current.CancellationToken))!;

        CrashRecoveryTests.KillStreamer(bootstrapServers);
        // About 10 MB for the item's one partition: twice what the embedded broker keeps.
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 20 }).Build())
        {
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < 40_000; i++)
            {
                var bid = new PostedBid(Guid.CreateVersion7(now), item, user, 2m + i, "retention-test", now);
                producer.Produce("bids", new Message<string, byte[]> { Key = item.ToString(), Value = BidMessage.From(bid).ToUtf8Json(), Timestamp = new Timestamp(bid.BidDate) });
                if (i % 10_000 == 0)
                {
                    producer.Flush(TimeSpan.FromMinutes(1));
                }
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromMinutes(1)));
        }

        await CrashRecoveryTests.RestartStreamerAsync(app);

        var report = await ResourceLogs.FirstLineAsync(app, "streamer", "were deleted by the broker's retention", TestContext.Current.CancellationToken);
        Assert.Matches(@"\d+ bid\(s\) of partition \d+ from offset \d+", report);
    }
}
