using System.Net;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;
using Microsoft.Data.Sqlite;

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

        await using (var locker = new SqliteConnection(connectionString))
        {
            await locker.OpenAsync(TestContext.Timeout);
            await using var transaction = await locker.BeginTransactionAsync(TestContext.Timeout);
            await using (var write = locker.CreateCommand())
            {
                write.CommandText = "UPDATE users SET bids = bids WHERE 0";
                await write.ExecuteNonQueryAsync(TestContext.Timeout);
            }

            using var refused = await http.PostJsonAsync("/users/", """{"name": "while locked"}""");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            await transaction.RollbackAsync(TestContext.Timeout);
        }

        using var accepted = await http.PostJsonAsync("/users/", """{"name": "after the lock"}""");
        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        await fixture.WaitHealthyAsync();
    }
}
