using System.Net;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Api;

/// <summary>The database locked by someone else: writes answer 503 with Retry-After, never a 500, and work again once it is free.</summary>
[Collection(EmbeddedAppCollection.Name)]
public class DatabaseUnavailableTests(EmbeddedApp fixture)
{
    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_write_while_the_database_is_locked_gets_503_and_succeeds_once_it_is_free()
    {
        using var http = fixture.App.CreateHttpClient("api", "http");
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
}
