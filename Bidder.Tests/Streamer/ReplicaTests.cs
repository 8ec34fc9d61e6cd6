using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Bidder.Core.Domain;
using Bidder.Core.Storage.Sqlite;
using Bidder.Tests.Support;

namespace Bidder.Tests.Streamer;

/// <summary>Two streamer replicas share the bid partitions (AppHost setting Bidder:Streamer:Replicas) and end exactly where one would.</summary>
public class ReplicaTests
{
    [Fact]
    public async Task Two_replicas_give_the_same_end_state_as_the_oracle()
    {
        await using var app = await EmbeddedApp.StartAsync(["Bidder:Infrastructure=embedded", "Bidder:Streamer:Replicas=2"], "kafka", "bidderdb", "api");
        var healthyReplicas = new HashSet<string>();
        await foreach (var update in app.ResourceNotifications.WatchAsync(TestContext.Timeout))
        {
            if (update.Resource.Name == "streamer" && update.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                && healthyReplicas.Add(update.ResourceId) && healthyReplicas.Count == 2)
            {
                break;
            }
        }

        using var http = app.CreateHttpClient("api", "http");
        var database = (await app.GetConnectionStringAsync("bidderdb", TestContext.Timeout))!;
        var bootstrapServers = (await app.GetConnectionStringAsync("kafka", TestContext.Timeout))!;
        var store = new SqliteBidderStore(database);
        var users = new List<Guid>();
        for (var i = 0; i < 20; i++)
        {
            users.Add(Guid.Parse((await http.CreateUserAsync($"replica user {i}")).Id()));
        }

        var items = new List<Item>();
        for (var i = 0; i < 40; i++)
        {
            var created = await http.CreateItemAsync(initBid: 5m + i, end: DateTimeOffset.UtcNow.AddDays(2), name: $"replica item {i}");
            items.Add((await store.GetItemAsync(Guid.Parse(created.Id()), TestContext.Timeout))!);
        }

        var stream = new BidStream(seed: 42, users, items, count: 3000);
        stream.Produce(bootstrapServers);
        var recorded = await stream.RecordedAsync(database);

        await GeneratedStreamTests.AssertMatchesOracleAsync(stream, recorded, users, items, bootstrapServers, database);
    }
}
