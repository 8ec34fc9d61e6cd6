using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;
using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bidder.Tests.Platform;

/// <summary>The AppHost started as a new user starts it, in embedded mode (no container engine).</summary>
[Collection(EmbeddedAppCollection.Name)]
public class EmbeddedAppTests(EmbeddedApp fixture)
{
    [Theory]
    [InlineData("kafka")]
    [InlineData("bidderdb")]
    [InlineData("api")]
    [InlineData("streamer")]
    public async Task Every_resource_is_running_and_healthy(string name)
    {
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(name, HangGuard.Token);
        var snapshot = fixture.State(name).Snapshot;

        Assert.Equal(KnownResourceStates.Running, snapshot.State?.Text);
        Assert.Equal(HealthStatus.Healthy, snapshot.HealthStatus);
    }

    [Fact]
    public async Task The_dashboard_links_the_api_to_its_scalar_explorer_and_openapi_document_and_both_answer()
    {
        await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync("api", HangGuard.Token);
        var urls = fixture.State("api").Snapshot.Urls;
        using var http = new HttpClient();

        foreach (var (text, path) in new[] { ("Scalar API explorer", "/scalar"), ("OpenAPI document", "/openapi/v1.json") })
        {
            var link = Assert.Single(urls, u => u.DisplayProperties.DisplayName == text);
            Assert.EndsWith(path, link.Url, StringComparison.Ordinal);
            using var response = await http.GetAsync(link.Url, TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, $"{link.Url} answered {(int)response.StatusCode}");
        }
    }

    [Theory]
    [InlineData("api")]
    [InlineData("streamer")]
    public async Task The_health_endpoint_answers_healthy_once_kafka_and_the_database_are_reachable(string service)
    {
        using var http = fixture.App.CreateHttpClient(service, "http");

        var health = await Eventually.WaitAsync(async () =>
        {
            using var response = await http.GetAsync("/health", TestContext.Current.CancellationToken);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        }, r => r.Item1 == 200, $"{service} /health to answer 200");

        Assert.Equal("Healthy", health.Item2);
    }

    [Fact]
    public async Task The_embedded_broker_has_the_application_topics_with_their_partition_counts()
    {
        var bootstrapServers = await fixture.ConnectionStringAsync("kafka");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();

        var topics = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.ToDictionary(t => t.Topic, t => t.Partitions.Count);

        Assert.Equal(8, topics["bids"]);
        Assert.Equal(8, topics["invalid-bids"]);
        Assert.Equal(8, topics["item-changelog"]);
    }

    [Fact]
    public async Task A_message_produced_to_the_bids_topic_is_seen_by_a_consumer()
    {
        var bootstrapServers = await fixture.ConnectionStringAsync("kafka");
        var key = Guid.NewGuid().ToString();
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
        }).Build();
        var delivered = await producer.ProduceAsync("bids", new Message<string, string> { Key = key, Value = "hello" }, TestContext.Current.CancellationToken);

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"platform-test-{key}",
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(delivered.TopicPartitionOffset);
        var consumed = consumer.Consume(HangGuard.Token);

        Assert.Equal(key, consumed.Message.Key);
        Assert.Equal("hello", consumed.Message.Value);
        Assert.Equal(delivered.TopicPartitionOffset, consumed.TopicPartitionOffset);
    }

    [Fact]
    public async Task The_database_is_a_fresh_sqlite_file_shared_by_both_services()
    {
        var connectionString = await fixture.ConnectionStringAsync("bidderdb");

        Assert.StartsWith("Data Source=", connectionString);
        var path = connectionString!["Data Source=".Length..];
        Assert.True(File.Exists(path), $"{path} should exist once the services' health checks have opened it");
        Assert.Contains(Path.Combine(Path.GetTempPath(), "bidder"), path);
    }
}
