using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Bidder.Core.Contracts;
using Bidder.Core.Domain;
using Bidder.Core.Storage.Sqlite;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Bidder.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bidder.Tests.Streamer;

/// <summary>
/// The streamer killed abruptly (SIGKILL: no flush, no commit, no goodbye to the group) several times while
/// bids keep coming, then restarted: the end state is exactly the oracle's, nothing lost, nothing doubled.
/// A broken variant that commits offsets before the database write was seen failing it (bids went missing).
/// </summary>
[Collection(EmbeddedAppCollection.Name)]
public class CrashRecoveryTests(EmbeddedApp fixture)
{
    [Fact]
    [Trait("Category", "Fault")]
    public async Task Killing_the_streamer_mid_stream_loses_nothing_and_counts_nothing_twice()
    {
        var seeding = new GeneratedStreamTests(fixture);
        var (users, items) = await seeding.SeedAsync(userCount: 25, itemCount: 40);
        var stream = new BidStream(seed: 7, users, items, count: 6000);
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;
        var database = (await fixture.ConnectionStringAsync("bidderdb"))!;
        var store = new SqliteBidderStore(database);
        var ids = stream.Bids.Select(b => b.Id).ToList();

        const int rounds = 3;
        var chunk = stream.Count / (rounds + 1);
        for (var round = 0; round < rounds; round++)
        {
            stream.Produce(bootstrapServers, round * chunk, (round + 1) * chunk);
            // Kill it mid-stream: once it has made some progress on this chunk, not after it has finished.
            var before = (await store.GetBidsAsync(ids, TestContext.Timeout)).Count;
            await Eventually.WaitAsync(() => store.GetBidsAsync(ids, TestContext.Timeout), r => r.Count > before, "the streamer to make progress");
            KillStreamer(bootstrapServers);
            await RestartStreamerAsync();
        }

        stream.Produce(bootstrapServers, rounds * chunk);
        var recorded = await stream.RecordedAsync(database);

        await GeneratedStreamTests.AssertMatchesOracleAsync(stream, recorded, users, items, bootstrapServers, database);
        await fixture.WaitHealthyAsync();
    }

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
        using var http = fixture.App.CreateHttpClient("api", "http");
        var user = Guid.Parse((await http.CreateUserAsync("retention")).Id());
        var item = Guid.Parse((await http.CreateItemAsync(initBid: 1m)).Id());
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;

        KillStreamer(bootstrapServers);
        // About 10 MB for the item's one partition: twice what the embedded broker keeps.
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 20 }).Build())
        {
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < 40_000; i++)
            {
                var bid = new PostedBid(Guid.CreateVersion7(now), item, user, 2m + i, "retention-test", now);
                producer.Produce("bids", new Message<string, byte[]> { Key = item.ToString(), Value = BidMessage.From(bid).ToUtf8Json() });
                if (i % 10_000 == 0)
                {
                    producer.Flush(TimeSpan.FromMinutes(1));
                }
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromMinutes(1)));
        }

        await RestartStreamerAsync();

        var logs = fixture.App.Services.GetRequiredService<ResourceLoggerService>();
        var instance = fixture.State("streamer").ResourceId;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Timeout);
        string? report = null;
        await foreach (var batch in logs.WatchAsync(instance).WithCancellation(timeout.Token))
        {
            report = batch.Select(l => l.Content).FirstOrDefault(c => c.Contains("were deleted by the broker's retention", StringComparison.Ordinal));
            if (report is not null)
            {
                break;
            }
        }

        Assert.NotNull(report);
        Assert.Matches(@"\d+ bid\(s\) of partition \d+ from offset \d+", report);
        await fixture.WaitHealthyAsync();
    }

    /// <summary>
    /// SIGKILLs this app's streamer process: the one whose environment points at this app's broker (the
    /// resource's own pid may be a launcher). Returns once it is gone.
    /// </summary>
    private static void KillStreamer(string bootstrapServers)
    {
        var marker = $"ConnectionStrings__kafka={bootstrapServers}";
        var streamers = Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Read($"/proc/{pid}/cmdline").Contains("Bidder.Streamer", StringComparison.Ordinal)
                && Read($"/proc/{pid}/environ").Split('\0').Contains(marker))
            .ToList();
        Assert.NotEmpty(streamers);
        foreach (var pid in streamers)
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            process.WaitForExit();
        }
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private async Task RestartStreamerAsync()
    {
        await fixture.App.ResourceNotifications.WaitForResourceAsync("streamer",
            e => e.Snapshot.State?.Text is "Exited" or "Finished" or "FailedToStart", TestContext.Timeout);
        var result = await fixture.App.ResourceCommands.ExecuteCommandAsync("streamer", KnownResourceCommands.StartCommand, TestContext.Timeout);
        Assert.True(result.Success, result.Message);
        await fixture.App.ResourceNotifications.WaitForResourceAsync("streamer",
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy, TestContext.Timeout);
    }
}
