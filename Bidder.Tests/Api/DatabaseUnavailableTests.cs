using System.Net;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Api;

/// <summary>The database locked or unreadable for a while: the API answers 503 with Retry-After, never a 500, and works again once it is back.</summary>
[Collection(EmbeddedAppCollection.Name)]
public class DatabaseUnavailableTests(EmbeddedApp fixture)
{
    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_write_while_the_database_is_locked_gets_503_and_succeeds_once_it_is_free()
    {
        var http = fixture.Admin.Api;
        var connectionString = (await fixture.ConnectionStringAsync("bidderdb"))!;

        await using (await Seed.LockDatabaseAsync(connectionString))
        {
            using var refused = await http.PostJsonAsync("/users/", """{"name": "while locked"}""");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        using var accepted = await http.PostJsonAsync("/users/", """{"name": "after the lock"}""");
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        await fixture.WaitHealthyAsync();
    }

    // Seen failing with the API's 503 mapping of an unavailable database removed (the read then answered 500).
    [Fact]
    [Trait("Category", "Fault")]
    public async Task While_the_database_cannot_be_read_reads_get_503_and_bids_wait_in_kafka_until_it_is_back()
    {
        var http = fixture.Admin.Api;
        var connectionString = (await fixture.ConnectionStringAsync("bidderdb"))!;
        using var bidder = await fixture.App.RegisterAsync("reader");
        var item = await http.CreateItemAsync(initBid: 3m);

        string bidId;
        using (Seed.HoldDatabaseExclusively(connectionString))
        {
            using var read = await http.GetAsync($"/items/{item.Id()}", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, read.StatusCode);
            Assert.NotNull(read.Headers.RetryAfter);
            Assert.Equal("application/problem+json", read.Content.Headers.ContentType?.MediaType);

            // Posting a bid needs Kafka and a valid token, not the database: it is taken now and processed once the database is back.
            using var posted = await bidder.Api.PostJsonAsync("/events/", $$"""{"item_id": "{{item.Id()}}", "value": 4}""");
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
            bidId = (await posted.ReadObjectAsync()).Id();
        }

        var processed = await Eventually.WaitAsync(
            async () =>
            {
                using var response = await http.GetAsync($"/events/{bidId}", TestContext.Current.CancellationToken);
                return response.StatusCode == HttpStatusCode.OK ? await response.ReadObjectAsync() : null;
            },
            bid => bid is not null, $"bid {bidId} to be processed after the database came back");
        Assert.Equal("accepted", processed!["status"]!.GetValue<string>());
        Assert.Equal(4m, (await http.GetObjectAsync($"/items/{item.Id()}"))["winning_bid"]!.GetValue<decimal>());
        await fixture.WaitHealthyAsync();
    }
}
