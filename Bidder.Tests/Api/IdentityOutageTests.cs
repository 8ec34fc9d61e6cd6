using System.Net;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Api;

/// <summary>
/// The API cannot reach its identity provider (here: its authority points at a closed port, while the identity
/// service itself runs and hands out real tokens). A signed-in request is answered 503 with Retry-After and a
/// problem document, never a 500; the public reads, which need no token, go on.
/// </summary>
public class IdentityOutageTests
{
    [Fact]
    [Trait("Category", "Fault")]
    public async Task While_the_identity_provider_cannot_be_reached_signed_in_requests_get_503_and_public_reads_go_on()
    {
        await using var app = await EmbeddedApp.StartAsync(["Bidder:Infrastructure=embedded"], telemetry: null,
            configure: builder => builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "api"))
                .WithEnvironment("Bidder__Identity__Authority", "http://127.0.0.1:9/"));
        using var bidder = await app.RegisterAsync("outage");

        using var refused = await bidder.Api.PostAsync("/events/",
            new StringContent($$"""{"item_id": "{{Guid.CreateVersion7()}}", "value": 5}""", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        using var anonymous = app.CreateHttpClient("api", "http");
        using var read = await anonymous.GetAsync("/items/", TestContext.Current.CancellationToken);

        Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)refused.StatusCode} {refused.Headers.WwwAuthenticate} {await refused.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }
}
