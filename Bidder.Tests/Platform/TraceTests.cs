using System.Diagnostics;
using System.Net;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Platform;

/// <summary>
/// One trace follows a bid from the HTTP request through Kafka to the database write, with spans from
/// both services, exported over OTLP as the dashboard receives them. Seen failing with a streamer that did
/// not continue the producer's trace context from the message headers.
/// </summary>
[Collection(EmbeddedAppCollection.Name)]
public class TraceTests(EmbeddedApp fixture)
{
    [Fact]
    public async Task A_posted_bid_has_one_trace_from_the_request_to_the_database_write_across_both_services()
    {
        var http = fixture.Bidder.Api;
        var item = await fixture.Admin.Api.CreateItemAsync(initBid: 5m);

        // The client starts the trace, as a traced caller would: the API continues it.
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events/")
        {
            Content = new StringContent($$"""{"item_id": "{{item.Id()}}", "value": 7}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var spans = await Eventually.WaitAsync(
            () => Task.FromResult(fixture.Telemetry.Trace(traceId)),
            trace => IsComplete(trace, fixture.Telemetry),
            $"trace {traceId} to reach the database write",
            trace => string.Join(", ", trace.Select(s => $"{s.Service}: {s.Name}")));

        var post = Assert.Single(spans, s => s.Service == "api" && s.Name == "POST /events/");
        // Whose request it was, by id only: no token and no email in any span of the trace.
        Assert.Equal(fixture.Bidder.Id.ToString(), post.Attributes["user.id"]);
        Assert.DoesNotContain(spans.SelectMany(s => s.Attributes.Values), v => v.Contains(fixture.Bidder.AccessToken, StringComparison.Ordinal)
            || v.Contains(fixture.Bidder.Email, StringComparison.OrdinalIgnoreCase) || v.Contains("Bearer", StringComparison.Ordinal));
        var publish = Assert.Single(spans, s => s.Service == "api" && s.Name == "send bids");
        var process = Assert.Single(spans, s => s.Service == "streamer" && s.Name == "process bids");
        Assert.Equal(post.SpanId, publish.ParentSpanId);
        Assert.Equal(publish.SpanId, process.ParentSpanId);

        // OpenTelemetry's messaging conventions: names "{operation} {destination}", the partition as a string.
        Assert.Equal("kafka", publish.Attributes["messaging.system"]);
        Assert.Equal("send", publish.Attributes["messaging.operation.name"]);
        Assert.Equal("bids", publish.Attributes["messaging.destination.name"]);
        Assert.True(int.TryParse(publish.Attributes["messaging.destination.partition.id"], out _));
        Assert.True(publish.Attributes.ContainsKey("server.address"));
        Assert.Equal("process", process.Attributes["messaging.operation.name"]);
        Assert.Equal("bids-streamer", process.Attributes["messaging.consumer.group.name"]);
        Assert.Equal(publish.Attributes["messaging.destination.partition.id"], process.Attributes["messaging.destination.partition.id"]);
        var write = RecordSpan(spans, process, fixture.Telemetry);
        Assert.NotNull(write);
        Assert.Equal("streamer", write.Service);
        if (write.ParentSpanId == process.SpanId)
        {
            // The bid led its batch: the item state the batch sent to the changelog continues its trace too.
            var changelog = await Eventually.WaitAsync(
                () => Task.FromResult(fixture.Telemetry.Trace(traceId).FirstOrDefault(s => s.Name == "send item-changelog")),
                span => span is not null, "the changelog send span");
            Assert.Equal(process.SpanId, changelog!.ParentSpanId);
            Assert.Equal("send", changelog.Attributes["messaging.operation.name"]);
        }
    }

    internal static bool IsComplete(IReadOnlyList<ExportedSpan> trace, OtlpSink sink)
    {
        var process = trace.FirstOrDefault(s => s.Name == "process bids");
        return trace.Any(s => s.Name == "POST /events/") && trace.Any(s => s.Name == "send bids")
            && process is not null && RecordSpan(trace, process, sink) is not null;
    }

    /// <summary>
    /// The batch write that recorded the bid: a child of its process span when the bid led the batch,
    /// otherwise the leading bid's trace links to it.
    /// </summary>
    internal static ExportedSpan? RecordSpan(IReadOnlyList<ExportedSpan> trace, ExportedSpan process, OtlpSink sink) =>
        trace.FirstOrDefault(s => s.Name == "bidder record batch" && s.ParentSpanId == process.SpanId)
        ?? (sink.LinkingTo(process.SpanId) is { Name: "bidder record batch" } linking ? linking : null);
}
