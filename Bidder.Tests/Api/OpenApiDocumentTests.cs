using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Api;

/// <summary>The OpenAPI document and the Scalar explorer, as a person trying the API would find them.</summary>
[Collection(EmbeddedAppCollection.Name)]
public class OpenApiDocumentTests(EmbeddedApp fixture)
{
    private readonly HttpClient _http = fixture.App.CreateHttpClient("api", "http");

    [Fact]
    public async Task The_document_describes_every_route_with_its_error_responses()
    {
        var document = await _http.GetObjectAsync("/openapi/v1.json");
        // .ci/run lints this copy with a standard OpenAPI linter.
        var copy = Path.Combine(Repository.Root, ".artifacts", "openapi.json");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        await File.WriteAllTextAsync(copy, document.ToJsonString(), TestContext.Timeout);

        var paths = document["paths"]!.AsObject();
        string[][] expected =
        [
            ["/users", "post", "201", "400", "413", "415", "503"],
            ["/users", "get", "200", "400", "503"],
            ["/users/{id}", "get", "200", "400", "404", "503"],
            ["/users/{id}/bids", "get", "200", "400", "404", "503"],
            ["/items", "post", "201", "400", "413", "415", "503"],
            ["/items", "get", "200", "400", "503"],
            ["/items/{id}", "get", "200", "400", "404", "503"],
            ["/items/{id}/bids", "get", "200", "400", "404", "503"],
            ["/events", "post", "202", "400", "409", "413", "415", "422", "503"],
            ["/events", "get", "200", "400", "503"],
            ["/events/{id}", "get", "200", "400", "404", "503"],
        ];
        foreach (var route in expected)
        {
            var operation = paths[route[0]]?[route[1]]?.AsObject();
            Assert.True(operation is not null, $"{route[1].ToUpperInvariant()} {route[0]} is missing from the document");
            Assert.Equal(route[2..].Order(), operation!["responses"]!.AsObject().Select(r => r.Key).Order());
        }

        var listItems = paths["/items"]!["get"]!["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>());
        Assert.Equal(["status", "limit", "cursor"], listItems);
        Assert.Equal(["open", "closed"], paths["/items"]!["get"]!["parameters"]![0]!["schema"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["name", "init_bid", "bidding_enddate"],
            document["components"]!["schemas"]!["CreateItemRequest"]!["required"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [Fact]
    public async Task The_scalar_explorer_is_served()
    {
        using var response = await _http.GetAsync("/scalar/", TestContext.Timeout);

        Assert.True(response.IsSuccessStatusCode);
        var page = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.Contains("<title>Bidder API</title>", page);
        Assert.Contains("\"url\":\"openapi/v1.json\"", page);
    }
}
