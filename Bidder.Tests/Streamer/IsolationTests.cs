using System.Reflection;
using Bidder.Domain.Contracts;
using Bidder.Domain;
using Bidder.Core.Kafka;
using Bidder.Core.Storage;
using Bidder.Core.Storage.Sqlite;
using Bidder.EmbeddedKafka;
using Bidder.Streamer.Extensions;
using Bidder.Streamer.Pipeline;
using Bidder.Tests.Support;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bidder.Tests.Streamer;

/// <summary>
/// The streamer's own services on a broker and an SQLite file of the test's, with the store wrapped so that
/// recording one particular bid throws what a bug would: not a database fault, so never retried.
/// </summary>
public sealed class IsolationTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("bidder-isolation-");

    // Seen failing before this change: the exception left the pipeline, the host stopped, and none of the
    // batch's bids was recorded (a restart would replay the batch and stop again).
    [Fact]
    public async Task A_store_that_throws_on_one_bid_loses_that_bid_alone_and_the_batch_and_the_partition_go_on()
    {
        using var cluster = new MockKafkaCluster();
        var topics = new KafkaTopicsOptions();
        cluster.CreateTopic(topics.Bids.Name, topics.Bids.Partitions);
        cluster.CreateTopic(topics.InvalidBids.Name, topics.InvalidBids.Partitions);
        cluster.CreateTopic(topics.ItemChangelog.Name, topics.ItemChangelog.Partitions);
        cluster.CreateTopic(topics.Auctions.Name, topics.Auctions.Partitions);
        var database = $"Data Source={Path.Combine(_folder.FullName, "bidder.db")}";
        var store = new SqliteBidderStore(database);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        var user = new User(Guid.CreateVersion7(), "alice", 0, now);
        var item = new Item(Guid.CreateVersion7(), "lamp", 1m, 0m, null, null, "EUR", [], 0, now, now.AddDays(1));
        await store.CreateUserAsync(user, TestContext.Current.CancellationToken);
        await store.CreateItemAsync(item, TestContext.Current.CancellationToken);
        var bids = Enumerable.Range(1, 10).Select(i => new BidMessage(1, Guid.CreateVersion7(), item.Id, user.Id, i * 10m, "web", now)).ToList();
        var cursed = bids[4];

        // Produced before the streamer starts, so its first poll takes them as one batch.
        Produce(cluster.BootstrapServers, topics.Bids.Name, bids);
        using var host = StartStreamer(cluster.BootstrapServers, database, ThrowingStore.Wrap(store, cursed.Id));
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var recorded = await Eventually.WaitAsync(() => store.GetBidsAsync([.. bids.Select(b => b.Id)], TestContext.Current.CancellationToken),
                r => r.Count == bids.Count - 1, "every bid but the cursed one to be recorded", r => $"{r.Count} recorded");
            Assert.DoesNotContain(cursed.Id, recorded.Keys);

            var stored = await store.GetItemAsync(item.Id, TestContext.Current.CancellationToken);
            Assert.Equal(100m, stored!.WinningBid);
            Assert.Equal(9, stored.Bids);
            Assert.Equal(9, (await store.GetUserAsync(user.Id, TestContext.Current.CancellationToken))!.Bids);

            var reject = TopicReader.ReadAll(cluster.BootstrapServers, topics.InvalidBids.Name)
                .Select(r => System.Text.Json.Nodes.JsonNode.Parse(r.Message.Value)!.AsObject())
                .Single(r => r["event"]?["id"]?.GetValue<string>() == cursed.Id.ToString());
            Assert.Equal(RejectReason.Unprocessable, reject["reason"]!.GetValue<string>());
            Assert.Contains(nameof(InvalidOperationException), reject["detail"]!.GetValue<string>());

            // The partition goes on: a later bid is processed.
            var later = new BidMessage(1, Guid.CreateVersion7(), item.Id, user.Id, 500m, "web", now);
            Produce(cluster.BootstrapServers, topics.Bids.Name, [later]);
            await Eventually.WaitAsync(() => store.GetBidsAsync([later.Id], TestContext.Current.CancellationToken), r => r.Count == 1, "the later bid to be recorded");
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }

    private static IHost StartStreamer(string bootstrapServers, string database, IBidderStore store)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = bootstrapServers,
            ["ConnectionStrings:bidderdb"] = database,
            ["Bidder:Streamer:PollTimeout"] = "00:00:00.500",
        });
        builder.AddApplicationServices();
        builder.Services.AddSingleton(store);
        return builder.Build();
    }

    private static void Produce(string bootstrapServers, string topic, IEnumerable<BidMessage> bids)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, Acks = Acks.All, EnableIdempotence = true }).Build();
        foreach (var bid in bids)
        {
            producer.Produce(topic, new Message<string, byte[]> { Key = bid.ItemId.ToString(), Value = bid.ToUtf8Json(), Timestamp = new Timestamp(bid.BidDate) });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    /// <summary>The real store, except that recording a batch holding one particular bid throws, as a bug would.</summary>
    public class ThrowingStore : DispatchProxy
    {
        private IBidderStore _inner = null!;
        private Guid _cursed;

        public static IBidderStore Wrap(IBidderStore inner, Guid cursed)
        {
            var proxy = Create<IBidderStore, ThrowingStore>();
            var throwing = (ThrowingStore)(object)proxy;
            throwing._inner = inner;
            throwing._cursed = cursed;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(IBidderStore.RecordBatchAsync) && ((ProcessedBatch)args![0]!).Bids.Any(b => b.Id == _cursed))
            {
                return Task.FromException(new InvalidOperationException("A bug this bid triggers."));
            }

            return method.Invoke(_inner, args);
        }
    }
}
