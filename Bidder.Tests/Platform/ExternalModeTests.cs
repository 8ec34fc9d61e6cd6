using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Bidder.EmbeddedKafka;
using Bidder.Tests.Support;

namespace Bidder.Tests.Platform;

/// <summary>External mode against infrastructure the AppHost does not own: here a broker and a database file of the test's.</summary>
public class ExternalModeTests
{
    [Fact]
    public async Task Services_use_the_connection_strings_given_in_configuration()
    {
        using var cluster = new MockKafkaCluster();
        foreach (var (topic, partitions) in new[] { ("bids", 8), ("invalid-bids", 8), ("item-changelog", 8), ("auctions", 8) })
        {
            cluster.CreateTopic(topic, partitions);
        }

        var folder = Directory.CreateTempSubdirectory("bidder-external-");
        var database = Path.Combine(folder.FullName, "external.db");
        try
        {
            await using var app = await EmbeddedApp.StartAsync(
                ["Bidder:Infrastructure=external", $"ConnectionStrings:kafka={cluster.BootstrapServers}", $"ConnectionStrings:bidderdb=Data Source={database}"],
                "api", "streamer");

            Assert.Equal(cluster.BootstrapServers, await app.GetConnectionStringAsync("kafka", TestContext.Current.CancellationToken));
            using var admin = await app.AdminAsync();
            var http = admin.Api;
            Assert.Equal("Healthy", await http.GetStringAsync("/health", TestContext.Current.CancellationToken));
            Assert.True(File.Exists(database), "the API's database health check opened the configured file");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
