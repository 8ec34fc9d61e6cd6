using System.Net;
using System.Text;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;

namespace Bidder.Tests.Api;

/// <summary>Every malformed or hostile request gets the documented 4xx problem document naming what is wrong, never a 5xx, and changes nothing.</summary>
[Collection(EmbeddedAppCollection.Name)]
public class BadInputTests(EmbeddedApp fixture)
{
    private const string Uuid = "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f";
    private readonly HttpClient _http = fixture.Admin.Api;

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
        // Above the highest bid the house takes (100000): no bid could ever buy it, or meet its reserve.
        { "POST", "/items/", """{"name": "x", "init_bid": 100000.01, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "init_bid" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "reserve_price": 100000.01}""", 400, "reserve_price" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2001-01-01T00:00:00Z"}""", 400, "bidding_enddate" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "tomorrow"}""", 400, "bidding_enddate" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10}""", 400, "bidding_enddate" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "currency": "eur"}""", 400, "currency" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "currency": "EURO"}""", 400, "currency" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "pictures": "https://a.b/c"}""", 400, "pictures" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "pictures": ["javascript:alert(1)"]}""", 400, "pictures[0]" },
        { "POST", "/items/", $$"""{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "pictures": [{{string.Join(",", Enumerable.Repeat("\"https://a.b/c\"", 21))}}]}""", 400, "pictures" },
        { "POST", "/items/", $$"""{"name": "{{new string('x', 201)}}", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "name" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "bid_increment": 0}""", 400, "bid_increment" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "bid_increment": 0.001}""", 400, "bid_increment" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "bid_increment": -1}""", 400, "bid_increment" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "bid_increment": "1"}""", 400, "bid_increment" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "bid_increment": 1e35}""", 400, "bid_increment" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "reserve_price": 9.99}""", 400, "reserve_price" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "reserve_price": 10.005}""", 400, "reserve_price" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "reserve_price": 0}""", 400, "reserve_price" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "reserve_price": "25"}""", 400, "reserve_price" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "reserve_price": 1e35}""", 400, "reserve_price" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "soft_close_seconds": -1}""", 400, "soft_close_seconds" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "soft_close_seconds": 3601}""", 400, "soft_close_seconds" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "soft_close_seconds": 1.5}""", 400, "soft_close_seconds" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "soft_close_seconds": "60"}""", 400, "soft_close_seconds" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "soft_close_seconds": 1e100}""", 400, "soft_close_seconds" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "max_value": 9.99}""", 400, "max_value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "max_value": 0}""", 400, "max_value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "max_value": -20}""", 400, "max_value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "max_value": 20.001}""", 400, "max_value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "max_value": "20"}""", 400, "max_value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "max_value": 1e35}""", 400, "max_value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "max_value": {"$gt": 0}}""", 400, "max_value" },
        { "POST", "/events/", """{"item_id": "not-a-uuid", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10}""", 400, "item_id" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": 12, "value": 10}""", 400, "user_id" },
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
        { "POST", "/users/", "null", 400, null },
        { "POST", "/users/", """{"name": {"$where": "sleep(5000)"}}""", 400, "name" },
        { "POST", "/users/", """{"name": ["$where"]}""", 400, "name" },
        { "POST", "/users/", """{"name": "nul\u0000byte"}""", 400, "name" },
        { "POST", "/items/", """{"name": {"$gt": ""}, "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "name" },
        { "POST", "/items/", """{"name": "x", "init_bid": {"$gt": 0}, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "init_bid" },
        { "POST", "/items/", """{"name": "x", "init_bid": NaN, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, null },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "currency": {"$ne": null}, "bidding_enddate": "2099-01-01T00:00:00Z"}""", 400, "currency" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": {"$gt": ""}}""", 400, "bidding_enddate" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "pictures": [{"$where": "1"}]}""", 400, "pictures[0]" },
        { "POST", "/items/", """{"name": "x", "init_bid": 10, "bidding_enddate": "2099-01-01T00:00:00Z", "pictures": ["../../etc/passwd"]}""", 400, "pictures[0]" },
        { "POST", "/events/", """{"item_id": {"$gt": ""}, "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10}""", 400, "item_id" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "$where", "value": 10}""", 400, "user_id" },
        { "POST", "/events/", """{"item_id": "../../etc/passwd", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10}""", 400, "item_id" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "client": {"$ne": null}}""", 400, "client" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": -0}""", 400, "value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 1e309}""", 400, "value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 1e35}""", 400, "value" },
        { "POST", "/events/", """{"item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": Infinity}""", 400, null },
        { "GET", "/events/..%2F..%2Fetc%2Fpasswd", null, 400, "id" },
        { "GET", "/items/$where", null, 400, "id" },
        { "GET", "/users/?cursor=eyIkZ3QiOiIifQ", null, 400, "cursor" },
        { "GET", "/items/?cursor=%00", null, 400, "cursor" },
        { "GET", "/events/?limit=1e3", null, 400, "limit" },
        { "GET", "/events/?status=%7B%22%24ne%22%3Anull%7D", null, 400, "status" },
        { "PUT", "/items/", "{}", 405, null },
        { "PATCH", $"/events/{Uuid}", "{}", 405, null },
        { "GET", "/nowhere", null, 404, null },
        { "DELETE", "/users/", null, 405, null },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task A_bad_request_gets_a_problem_document_naming_the_field(string method, string path, string? json, int status, string? field)
    {
        using var response = await _http.SendAsync(Request(method, path, json), TestContext.Current.CancellationToken);

        await AssertProblem(response, status, field);
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_415()
    {
        using var response = await _http.SendAsync(NotJson(), TestContext.Current.CancellationToken);

        await AssertProblem(response, 415, null);
    }

    [Fact]
    public async Task A_body_over_64_KiB_gets_413_even_when_it_is_10_MB()
    {
        foreach (var size in OversizedBodies)
        {
            using var response = await _http.SendAsync(Oversized(size), TestContext.Current.CancellationToken);

            await AssertProblem(response, 413, null);
        }
    }

    [Fact]
    public async Task Deeply_nested_json_gets_400()
    {
        using var response = await _http.SendAsync(DeeplyNested(), TestContext.Current.CancellationToken);

        await AssertProblem(response, 400, null);
    }

    [Fact]
    public async Task An_idempotency_key_that_is_not_printable_ascii_gets_400()
    {
        using var response = await _http.SendAsync(BadIdempotencyKey(), TestContext.Current.CancellationToken);

        await AssertProblem(response, 400, "Idempotency-Key");
    }

    [Fact]
    public async Task Two_idempotency_key_headers_on_one_bid_get_400()
    {
        // Two header lines, as curl sends them (HttpClient would join the values into one line). Joined by the binder
        // they were one key, "a,b", which neither a retry with "a" nor one with "b" would find.
        var body = $$"""{"item_id": "{{Uuid}}", "value": 10}""";
        var api = _http.BaseAddress!;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(api.Host, api.Port, TestContext.Current.CancellationToken);
        await using var stream = tcp.GetStream();
        var request = $"POST /events/ HTTP/1.1\r\nHost: {api.Authority}\r\nAuthorization: {_http.DefaultRequestHeaders.Authorization}\r\n" +
            $"Content-Type: application/json\r\nIdempotency-Key: first-key\r\nIdempotency-Key: second-key\r\n" +
            $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request), TestContext.Current.CancellationToken);
        var answer = await new StreamReader(stream).ReadToEndAsync(TestContext.Current.CancellationToken);

        Assert.StartsWith("HTTP/1.1 400", answer);
        Assert.Contains("application/problem+json", answer);
        Assert.Contains("Send one 'Idempotency-Key' header", answer);
    }

    /// <summary>
    /// Every bad request of this class, sent again, plus hostile bids aimed at a real user and item: the
    /// records, the row counts and the bids topic are exactly as before. (A refused bid that still
    /// reached Kafka, or a refused create that still wrote a row, fails here.)
    /// </summary>
    [Fact]
    public async Task The_data_is_unchanged_after_every_bad_request()
    {
        var user = (await _http.CreateUserAsync("bystander")).Id();
        var item = (await _http.CreateItemAsync(initBid: 10m, name: "bystander item")).Id();
        var before = await SnapshotAsync(user, item);

        var requests = Requests.Select(row => Request(row.Data.Item1, row.Data.Item2, row.Data.Item3))
            .Concat((HttpRequestMessage[])[NotJson(), DeeplyNested(), BadIdempotencyKey(), .. OversizedBodies.Select(Oversized)])
            .Concat(new[] { "-0", "0", "1e309", "\"NaN\"", "{\"$gt\": 0}", "100000.001" }.Select(value =>
                Request("POST", "/events/", $$"""{"item_id": "{{item}}", "user_id": "{{user}}", "value": {{value}}}""")))
            .Concat((HttpRequestMessage[])[
                Request("POST", "/events/", $$"""{"item_id": {"$in": ["{{item}}"]}, "user_id": "{{user}}", "value": 50}"""),
                Request("POST", "/events/", $$"""{"item_id": "{{item}}", "user_id": {"$ne": null}, "value": 50}"""),
                Request("POST", "/events/", $$"""{"item_id": "{{item}}", "user_id": "{{user}}", "value": 50, "max_value": 49.99}"""),
                Request("POST", "/events/", $$"""{"item_id": "{{item}}", "user_id": "{{user}}", "value": 50, "max_value": 1e35}"""),
                Request("GET", $"/items/{item}/bids?limit=0", null),
                Request("GET", $"/users/{user}/bids?status=$where", null),
            ]);
        foreach (var request in requests)
        {
            using (request)
            using (var response = await _http.SendAsync(request, TestContext.Current.CancellationToken))
            {
                Assert.True((int)response.StatusCode is >= 400 and < 500, $"{request.Method} {request.RequestUri} answered {(int)response.StatusCode}");
            }
        }

        Assert.Equal(before, await SnapshotAsync(user, item));
    }

    private sealed record Snapshot(long Users, long Items, long IdempotencyKeys, long BidMessages, string User, string Item);

    private async Task<Snapshot> SnapshotAsync(string user, string item)
    {
        await using var connection = new SqliteConnection(await fixture.ConnectionStringAsync("bidderdb"));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        async Task<long> CountAsync(string table)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT COUNT(*) FROM {table}";
            return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        }

        return new Snapshot(
            await CountAsync("users"), await CountAsync("items"), await CountAsync("idempotency_keys"),
            await BidMessagesOnTopicAsync(),
            (await _http.GetObjectAsync($"/users/{user}")).ToJsonString(),
            (await _http.GetObjectAsync($"/items/{item}")).ToJsonString());
    }

    /// <summary>How many messages the bids topic has ever held: the sum of its partitions' high watermarks.</summary>
    private async Task<long> BidMessagesOnTopicAsync()
    {
        var bootstrapServers = await fixture.ConnectionStringAsync("kafka");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = $"watermarks-{Guid.NewGuid()}" }).Build();
        return admin.GetMetadata("bids", TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition("bids", p.PartitionId), TimeSpan.FromSeconds(10)).High.Value);
    }

    private static readonly int[] OversizedBodies = [64 * 1024 + 1, 10 * 1024 * 1024];

    private static HttpRequestMessage Request(string method, string path, string? json, string contentType = "application/json") =>
        new(new HttpMethod(method), path)
        {
            Content = json is null ? null : new StringContent(json, Encoding.UTF8, contentType),
        };

    private static HttpRequestMessage NotJson() => Request("POST", "/users/", "name=bob", "application/x-www-form-urlencoded");

    private static HttpRequestMessage Oversized(int size) => Request("POST", "/users/", $$"""{"name": "{{new string('a', size)}}"}""");

    private static HttpRequestMessage DeeplyNested() => Request("POST", "/users/", new string('[', 10_000) + new string(']', 10_000));

    private static HttpRequestMessage BadIdempotencyKey()
    {
        var request = Request("POST", "/events/", $$"""{"item_id": "{{Uuid}}", "user_id": "{{Uuid}}", "value": 10}""");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', 201));
        return request;
    }

    private static async Task AssertProblem(HttpResponseMessage response, int status, string? field)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
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
