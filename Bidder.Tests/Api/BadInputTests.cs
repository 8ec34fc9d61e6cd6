using System.Net;
using System.Text;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Api;

/// <summary>Every malformed or hostile request gets the documented 4xx problem document naming what is wrong, never a 5xx.</summary>
[Collection(EmbeddedAppCollection.Name)]
public class BadInputTests(EmbeddedApp fixture)
{
    private const string Uuid = "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f";
    private readonly HttpClient _http = fixture.App.CreateHttpClient("api", "http");

    public static TheoryData<string, string, string?, int, string?> Requests => new()
    {
        // method, path, JSON body, expected status, the field named in "errors" (null: only the problem's detail)
        { "POST", "/users/", "{", 400, null },
        { "POST", "/users/", "[]", 400, null },
        { "POST", "/users/", "\"name\"", 400, null },
        { "POST", "/users/", "{}", 400, "name" },
        { "POST", "/users/", """{"name": ""}""", 400, "name" },
        { "POST", "/users/", """{"name": "   "}""", 400, "name" },
        { "POST", "/users/", """{"name": 42}""", 400, "name" },
        { "POST", "/users/", """{"name": null}""", 400, "name" },
        { "POST", "/users/", """{"name": {"$gt": ""}}""", 400, "name" },
        { "POST", "/users/", $$"""{"name": "{{new string('x', 101)}}"}""", 400, "name" },
        { "POST", "/users/", """{"name": "bell\u0007"}""", 400, "name" },
        { "POST", "/users/", """{"name": "lone \ud800 surrogate"}""", 400, "name" },
        { "POST", "/items/", """{"name": "x", "init_bid": 0, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "init_bid" },
        { "POST", "/items/", """{"name": "x", "init_bid": -5, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "init_bid" },
        { "POST", "/items/", """{"name": "x", "init_bid": -0, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "init_bid" },
        { "POST", "/items/", """{"name": "x", "init_bid": 1.005, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "init_bid" },
        { "POST", "/items/", """{"name": "x", "init_bid": "10", "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "init_bid" },
        { "POST", "/items/", """{"name": "x", "init_bid": 1e309, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "init_bid" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2001-01-01T00:00:00Z"}""", 400, "bidding_enddate" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "tomorrow"}""", 400, "bidding_enddate" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10}""", 400, "bidding_enddate" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "currency": "eur"}""", 400, "currency" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "currency": "EURO"}""", 400, "currency" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "pictures": "https://a.b/c"}""", 400, "pictures" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "pictures": ["javascript:alert(1)"]}""", 400, "pictures[0]" },
        { "POST", "/items/", $$"""{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "pictures": [{{string.Join(",", Enumerable.Repeat("\"https://a.b/c\"", 21))}}]}""", 400, "pictures" },
        { "POST", "/items/", $$"""{"name": "{{new string('x', 201)}}", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "name" },
        { "POST", "/events/", """{"item_id": "not-a-uuid", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10}""", 400, "item_id" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10}""", 400, "user_id" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10.001}""", 400, "value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": "NaN"}""", 400, "value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f"}""", 400, "value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 1, "client": ""}""", 400, "client" },
        { "GET", "/users/not-a-uuid", null, 400, "id" },
        { "GET", "/users/..%2F..%2Fetc%2Fpasswd", null, 400, "id" },
        { "GET", "/items/{\"$gt\":\"\"}", null, 400, "id" },
        { "GET", "/events/42", null, 400, "id" },
        { "GET", "/users/not-a-uuid/bids", null, 400, "id" },
        { "GET", "/items/not-a-uuid/bids", null, 400, "id" },
        { "GET", $"/users/{Uuid}", null, 404, null },
        { "GET", $"/items/{Uuid}", null, 404, null },
        { "GET", $"/events/{Uuid}", null, 404, null },
        { "GET", $"/users/{Uuid}/bids", null, 404, null },
        { "GET", $"/items/{Uuid}/bids", null, 404, null },
        { "GET", "/users/?limit=0", null, 400, "limit" },
        { "GET", "/users/?limit=101", null, 400, "limit" },
        { "GET", "/users/?limit=99999999999999999999", null, 400, "limit" },
        { "GET", "/users/?limit=ten", null, 400, "limit" },
        { "GET", "/items/?limit=-1", null, 400, "limit" },
        { "GET", "/users/?cursor=forged", null, 400, "cursor" },
        { "GET", "/events/?cursor=zzz", null, 400, "cursor" },
        { "GET", "/items/?status=pending", null, 400, "status" },
        { "GET", "/events/?status=maybe", null, 400, "status" },
        { "GET", "/nowhere", null, 404, null },
        { "DELETE", "/users/", null, 405, null },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_bad_request_gets_a_problem_document_naming_the_field(string method, string path, string? json, int status, string? field)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request, TestContext.Timeout);

        await AssertProblem(response, status, field);
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_415()
    {
        using var response = await _http.PostJsonAsync("/users/", "name=bob", "application/x-www-form-urlencoded");

        await AssertProblem(response, 415, null);
    }

    [Fact]
    public async Task A_body_over_64_KiB_gets_413_even_when_it_is_10_MB()
    {
        foreach (var size in new[] { 64 * 1024 + 1, 10 * 1024 * 1024 })
        {
            using var response = await _http.PostJsonAsync("/users/", $$"""{"name": "{{new string('a', size)}}"}""");

            await AssertProblem(response, 413, null);
        }
    }

    [Fact]
    public async Task Deeply_nested_json_gets_400()
    {
        using var response = await _http.PostJsonAsync("/users/", new string('[', 10_000) + new string(']', 10_000));

        await AssertProblem(response, 400, null);
    }

    [Fact]
    public async Task An_idempotency_key_that_is_not_printable_ascii_gets_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events/")
        {
            Content = new StringContent($$"""{"item_id": "{{Uuid}}", "user_id": "{{Uuid}}", "value": 10}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', 201));

        using var response = await _http.SendAsync(request, TestContext.Timeout);

        await AssertProblem(response, 400, "Idempotency-Key");
    }

    private static async Task AssertProblem(HttpResponseMessage response, int status, string? field)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Timeout);
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
        Assert.Equal(status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrWhiteSpace(problem["title"]?.GetValue<string>()));
        if (field is not null)
        {
            var errors = problem["errors"]!.AsObject();
            Assert.True(errors.ContainsKey(field), $"'errors' should name '{field}': {body}");
            Assert.Contains(field, errors[field]![0]!.GetValue<string>());
        }
    }
}
