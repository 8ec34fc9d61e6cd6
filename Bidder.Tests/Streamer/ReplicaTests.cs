using System.Diagnostics;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Bidder.Domain;
using Bidder.Core.Storage.Sqlite;
using Bidder.Tests.Support;

namespace Bidder.Tests.Streamer;

/// <summary>
/// Several streamers share the bid partitions and end exactly where one would: two replicas from the
/// AppHost (Bidder:Streamer:Replicas), closing the auctions of their own partitions once each, and a second
/// streamer joining mid-stream.
/// </summary>
public class ReplicaTests
{
    [Fact]
    public async Task Two_replicas_give_the_same_end_state_as_the_oracle()
    {
        await using var app = await EmbeddedApp.StartAsync(["Bidder:Infrastructure=embedded", "Bidder:Streamer:Replicas=2"], "kafka", "bidderdb", "api");
        var healthyReplicas = new HashSet<string>();
        await foreach (var update in app.ResourceNotifications.WatchAsync(TestContext.Current.CancellationToken))
        {
            if (update.Resource.Name == "streamer" && update.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                && healthyReplicas.Add(update.ResourceId) && healthyReplicas.Count == 2)
            {
                break;
            }
        }

        using var admin = await app.AdminAsync();

        var http = admin.Api;
        var database = (await app.GetConnectionStringAsync("bidderdb", TestContext.Current.CancellationToken))!;
        var bootstrapServers = (await app.GetConnectionStringAsync("kafka", TestContext.Current.CancellationToken))!;
        var (users, items) = await Seed.UsersAndItemsAsync(http, database, userCount: 20, itemCount: 40, initBidBase: 5m, "replica");
        // Half the items end during the test: each replica closes those of its own partitions, each exactly once.
        var soon = DateTimeOffset.UtcNow.AddSeconds(20);
        var closing = new List<Item>();
        for (var i = 0; i < items.Count; i += 2)
        {
            closing.Add(items[i] = await BidStream.SetTermsAsync(database, items[i], 1m, reserve: i % 4 == 0 ? 200m : null, softCloseSeconds: 0, end: soon));
        }

        var stream = new BidStream(seed: 42, users, items, count: 3000, automaticShare: 0.3);
        stream.Produce(bootstrapServers);
        var recorded = await stream.RecordedAsync(database);

        await stream.AssertEndStateAsync(recorded, users, items, bootstrapServers, database);
        await stream.AssertClosedAsync(closing, users, bootstrapServers, database);
    }

    [Fact]
    public async Task A_second_streamer_joining_mid_stream_gives_the_same_end_state_as_the_oracle()
    {
        await using var app = await EmbeddedApp.StartAsync(["Bidder:Infrastructure=embedded"]);
        using var admin = await app.AdminAsync();
        var http = admin.Api;
        var database = (await app.GetConnectionStringAsync("bidderdb", TestContext.Current.CancellationToken))!;
        var bootstrapServers = (await app.GetConnectionStringAsync("kafka", TestContext.Current.CancellationToken))!;
        var store = new SqliteBidderStore(database);
        var (users, items) = await Seed.UsersAndItemsAsync(http, database, userCount: 20, itemCount: 40, initBidBase: 5m, "replica");

        var stream = new BidStream(seed: 43, users, items, count: 4000);
        var ids = stream.Bids.Select(b => b.Id).ToList();
        stream.Produce(bootstrapServers, 0, stream.Count / 2);
        await Eventually.WaitAsync(() => store.GetBidsAsync(ids, TestContext.Current.CancellationToken), r => r.Count > 0, "the first streamer to make progress");

        // A second streamer process, configured exactly like the AppHost's, joins the group while bids are processed.
        using var second = StartSecondStreamer(bootstrapServers);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        second.OutputDataReceived += (_, line) => output.Enqueue(line.Data ?? "");
        second.BeginOutputReadLine();
        try
        {
            // The rest of the stream comes once the group has given the newcomer its share of the partitions.
            await Eventually.WaitAsync(() => Task.FromResult(output.Any(line => Regex.IsMatch(line, @"Assigned bids partitions: \d"))),
                joined => joined, "the second streamer to be assigned partitions");
            stream.Produce(bootstrapServers, stream.Count / 2);
            var recorded = await stream.RecordedAsync(database);

            await stream.AssertEndStateAsync(recorded, users, items, bootstrapServers, database);
            Assert.False(second.HasExited, "the second streamer should still be running");
        }
        finally
        {
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync(HangGuard.Token);
        }
    }

    /// <summary>Starts Bidder.Streamer with the environment the AppHost gave the running one (its own HTTP port aside).</summary>
    private static Process StartSecondStreamer(string bootstrapServers)
    {
        var running = ServiceProcesses.Find("Bidder.Streamer", bootstrapServers).First(p => p.IsService("Bidder.Streamer"));
        var (executable, environment) = (running.Executable, running.Environment);
        var start = new ProcessStartInfo(executable) { UseShellExecute = false, RedirectStandardOutput = true };
        start.Environment.Clear();
        foreach (var variable in environment.Where(v => v.Contains('=')))
        {
            var split = variable.IndexOf('=');
            start.Environment[variable[..split]] = variable[(split + 1)..];
        }

        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment.Remove("HTTP_PORTS");
        return Process.Start(start)!;
    }
}
