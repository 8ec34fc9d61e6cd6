using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Bidder.Core.Storage.Sqlite;
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
        var (users, items) = await Seed.StreamUsersAndItemsAsync(fixture, userCount: 25, itemCount: 40);
        var stream = new BidStream(seed: 7, users, items, count: 6000);
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;
        var database = (await fixture.ConnectionStringAsync("bidderdb"))!;
        var store = new SqliteBidderStore(database);
        var ids = stream.Bids.Select(b => b.Id).ToList();

        const int rounds = 3;
        var chunk = stream.Count / (rounds + 1);
        for (var round = 0; round < rounds; round++)
        {
            // Kill it mid-stream: once it has made some progress on this chunk. Counted before the chunk is
            // produced: counted after, a streamer that took the whole chunk meanwhile had no progress left to make.
            var before = (await store.GetBidsAsync(ids, TestContext.Current.CancellationToken)).Count;
            stream.Produce(bootstrapServers, round * chunk, (round + 1) * chunk);
            await Eventually.WaitAsync(() => store.GetBidsAsync(ids, TestContext.Current.CancellationToken), r => r.Count > before, "the streamer to make progress",
                r => $"{r.Count} of {ids.Count} recorded, {before} before this chunk");
            KillStreamer(bootstrapServers);
            await RestartStreamerAsync(fixture.App);
        }

        stream.Produce(bootstrapServers, rounds * chunk);
        var recorded = await stream.RecordedAsync(database);

        await stream.AssertEndStateAsync(recorded, users, items, bootstrapServers, database);
        await fixture.WaitHealthyAsync();
    }

    /// <summary>
    /// SIGKILLs this app's streamer process: the one whose environment points at this app's broker (the
    /// resource's own pid may be a launcher). Returns once it is gone.
    /// </summary>
    internal static void KillStreamer(string bootstrapServers) => ServiceProcesses.Kill(ServiceProcesses.Find("Bidder.Streamer", bootstrapServers));

    internal static async Task RestartStreamerAsync(DistributedApplication app)
    {
        await app.ResourceNotifications.WaitForResourceAsync("streamer",
            e => e.Snapshot.State?.Text is "Exited" or "Finished" or "FailedToStart", TestContext.Current.CancellationToken);
        var result = await app.ResourceCommands.ExecuteCommandAsync("streamer", KnownResourceCommands.StartCommand, TestContext.Current.CancellationToken);
        Assert.True(result.Success, result.Message);
        await app.ResourceNotifications.WaitForResourceAsync("streamer",
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy, TestContext.Current.CancellationToken);
    }
}
