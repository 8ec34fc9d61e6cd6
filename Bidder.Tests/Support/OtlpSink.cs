using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bidder.Tests.Support;

/// <summary>One span as exported by a service: enough to follow a trace across services.</summary>
/// <summary>A span as exported; <see cref="Attributes"/> holds its string-valued attributes.</summary>
public sealed record ExportedSpan(string Service, string TraceId, string SpanId, string ParentSpanId, string Name, IReadOnlyList<string> LinkedSpanIds, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// An OTLP/HTTP (protobuf) receiver standing in for the dashboard: the tests start the app without a
/// dashboard, so the services export their spans here, where a test can assert on a whole trace. Only
/// traces are decoded; metrics and logs are acknowledged and dropped. Spans are kept per trace, and the
/// oldest traces are dropped beyond a cap, so a long suite cannot grow it without bound.
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    private const int MaxTraces = 50_000;

    private readonly ConcurrentDictionary<string, ConcurrentQueue<ExportedSpan>> _traces = new();
    private readonly ConcurrentDictionary<string, ExportedSpan> _byLinkedSpan = new();
    private readonly ConcurrentQueue<string> _arrival = new();
    private readonly WebApplication _server;

    private OtlpSink(WebApplication server) => _server = server;

    public string Endpoint { get; private set; } = "";

    public static async Task<OtlpSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var sink = new OtlpSink(builder.Build());
        sink._server.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            if (signal == "traces")
            {
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                sink.Add(OtlpTraceDecoder.Decode(body.ToArray()));
            }

            // An empty Export*ServiceResponse: full success.
            return Results.Bytes([], "application/x-protobuf");
        });
        await sink._server.StartAsync(TestContext.Current.CancellationToken);
        sink.Endpoint = sink._server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return sink;
    }

    /// <summary>Points every project resource's OpenTelemetry exporter at this sink.</summary>
    public void ExportFrom(IDistributedApplicationBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            builder.CreateResourceBuilder(project).WithEnvironment(context =>
            {
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint;
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                context.EnvironmentVariables["OTEL_SERVICE_NAME"] = project.Name;
                context.EnvironmentVariables["OTEL_BSP_SCHEDULE_DELAY"] = "200";
                context.EnvironmentVariables["OTEL_METRIC_EXPORT_INTERVAL"] = "60000";
            });
        }
    }

    public IReadOnlyList<ExportedSpan> Trace(string traceId) =>
        _traces.TryGetValue(traceId, out var spans) ? spans.ToList() : [];

    /// <summary>The first span received that matches (the traces are searched one by one: for a test, not a hot path).</summary>
    public ExportedSpan? Find(Func<ExportedSpan, bool> match) => _traces.Values.SelectMany(spans => spans).FirstOrDefault(match);

    /// <summary>The span that links to <paramref name="spanId"/> (a batch span links every message it handled).</summary>
    public ExportedSpan? LinkingTo(string spanId) => _byLinkedSpan.GetValueOrDefault(spanId);

    private void Add(IEnumerable<ExportedSpan> spans)
    {
        foreach (var span in spans)
        {
            foreach (var linked in span.LinkedSpanIds)
            {
                _byLinkedSpan[linked] = span;
            }

            _traces.GetOrAdd(span.TraceId, id =>
            {
                _arrival.Enqueue(id);
                return new ConcurrentQueue<ExportedSpan>();
            }).Enqueue(span);
        }

        while (_arrival.Count > MaxTraces && _arrival.TryDequeue(out var oldest))
        {
            if (_traces.TryRemove(oldest, out var dropped))
            {
                foreach (var linked in dropped.SelectMany(s => s.LinkedSpanIds))
                {
                    _byLinkedSpan.TryRemove(linked, out _);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        await _server.DisposeAsync();
    }
}

/// <summary>
/// Reads the few fields of an OTLP ExportTraceServiceRequest the tests need, straight from the protobuf
/// wire format (opentelemetry-proto trace/v1 and resource/v1): the service name, and per span its ids,
/// parent, name and links.
/// </summary>
internal static class OtlpTraceDecoder
{
    public static List<ExportedSpan> Decode(ReadOnlySpan<byte> request)
    {
        var spans = new List<ExportedSpan>();
        foreach (var (field, resourceSpans) in Fields(request.ToArray()))
        {
            if (field != 1)
            {
                continue;
            }

            var service = "";
            var scopeSpansList = new List<byte[]>();
            foreach (var (rsField, value) in Fields(resourceSpans))
            {
                if (rsField == 1)
                {
                    service = ServiceName(value);
                }
                else if (rsField == 2)
                {
                    scopeSpansList.Add(value);
                }
            }

            foreach (var scopeSpans in scopeSpansList)
            {
                spans.AddRange(Fields(scopeSpans).Where(f => f.Field == 2).Select(f => Span(service, f.Value)));
            }
        }

        return spans;
    }

    private static string ServiceName(byte[] resource)
    {
        foreach (var (field, keyValue) in Fields(resource))
        {
            if (field != 1)
            {
                continue;
            }

            var parts = Fields(keyValue).ToDictionary(f => f.Field, f => f.Value);
            if (parts.TryGetValue(1, out var key) && System.Text.Encoding.UTF8.GetString(key) == "service.name" && parts.TryGetValue(2, out var any))
            {
                return Fields(any).Where(f => f.Field == 1).Select(f => System.Text.Encoding.UTF8.GetString(f.Value)).FirstOrDefault() ?? "";
            }
        }

        return "";
    }

    private static ExportedSpan Span(string service, byte[] span)
    {
        string traceId = "", spanId = "", parent = "", name = "";
        var links = new List<string>();
        var attributes = new Dictionary<string, string>();
        foreach (var (field, value) in Fields(span))
        {
            switch (field)
            {
                case 1: traceId = Convert.ToHexStringLower(value); break;
                case 2: spanId = Convert.ToHexStringLower(value); break;
                case 4: parent = Convert.ToHexStringLower(value); break;
                case 5: name = System.Text.Encoding.UTF8.GetString(value); break;
                case 9: AddStringAttribute(attributes, value); break;
                case 13: links.AddRange(Fields(value).Where(f => f.Field == 2).Select(f => Convert.ToHexStringLower(f.Value))); break;
            }
        }

        return new ExportedSpan(service, traceId, spanId, parent, name, links, attributes);
    }

    // KeyValue { key = 1; AnyValue value = 2 }, AnyValue { string_value = 1; ... }: numbers are varints, not read here.
    private static void AddStringAttribute(Dictionary<string, string> attributes, byte[] keyValue)
    {
        var parts = Fields(keyValue).ToDictionary(f => f.Field, f => f.Value);
        if (parts.TryGetValue(1, out var key) && parts.TryGetValue(2, out var any)
            && Fields(any).FirstOrDefault(f => f.Field == 1) is { Value: { } text })
        {
            attributes[System.Text.Encoding.UTF8.GetString(key)] = System.Text.Encoding.UTF8.GetString(text);
        }
    }

    /// <summary>The length-delimited fields of a message (the only kind these paths use); others are skipped.</summary>
    private static IEnumerable<(int Field, byte[] Value)> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var field = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0: ReadVarint(message, ref position); break;
                case 1: position += 8; break;
                case 5: position += 4; break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    yield return (field, message[position..(position + length)]);
                    position += length;
                    break;
                default: throw new InvalidDataException($"Unsupported protobuf wire type {tag & 7}.");
            }
        }
    }

    private static ulong ReadVarint(byte[] buffer, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = buffer[position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }
    }
}
