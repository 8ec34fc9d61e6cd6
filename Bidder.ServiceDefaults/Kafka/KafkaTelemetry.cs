using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;
using OpenTelemetry;
using OpenTelemetry.Context.Propagation;

namespace Bidder.ServiceDefaults.Kafka;

/// <summary>
/// Kafka spans and the W3C trace context carried in message headers, so that one trace runs from the
/// HTTP request through the produce, the consume and the database write. Names follow the OpenTelemetry
/// messaging semantic conventions.
/// </summary>
public static class KafkaTelemetry
{
    public const string ActivitySourceName = "Bidder.Kafka";
    public const string MeterName = "Bidder.Kafka";

    public static readonly ActivitySource Source = new(ActivitySourceName);

    internal static readonly Meter Meter = new(MeterName);

    // W3C trace context and baggage, always: the SDK's default propagator is a no-op until a tracer
    // provider is built, and Kafka headers must carry the context whatever the host configured.
    private static readonly TextMapPropagator Propagator =
        new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator()]);

    /// <summary>
    /// Starts a send span (<c>send {topic}</c>, a child of the current activity) and writes its context into
    /// <paramref name="headers"/>, so the consumer continues the trace. For a batch sent under one span,
    /// pass the message count, then <see cref="Inject"/> the span into each message's headers.
    /// </summary>
    public static Activity? StartSend(string topic, Headers? headers = null, string? bootstrapServers = null, int messageCount = 1, ActivityContext parent = default)
    {
        var activity = Source.StartActivity(SpanName("send", topic), ActivityKind.Producer, parent);
        if (headers is not null)
        {
            Inject(activity, headers);
        }

        if (activity is not null)
        {
            SetCommon(activity, "send", topic, bootstrapServers);
            if (messageCount != 1)
            {
                activity.SetTag("messaging.batch.message_count", messageCount);
            }
        }

        return activity;
    }

    /// <summary>Writes the span's context (or the current one) into a message's headers.</summary>
    public static void Inject(Activity? activity, Headers headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var context = activity?.Context ?? Activity.Current?.Context ?? default;
        if (context != default)
        {
            Propagator.Inject(new PropagationContext(context, Baggage.Current), headers, static (h, key, value) =>
            {
                h.Remove(key);
                h.Add(key, Encoding.UTF8.GetBytes(value));
            });
        }
    }

    /// <summary>The trace context a producer wrote into a message's headers, or default when there is none.</summary>
    public static ActivityContext ExtractContext(Headers? headers)
    {
        if (headers is null)
        {
            return default;
        }

        var context = Propagator.Extract(default, headers, static (h, key) =>
            h.TryGetLastBytes(key, out var value) ? [Encoding.UTF8.GetString(value)] : []);
        return context.ActivityContext;
    }

    /// <summary>
    /// Starts a process span (<c>process {topic}</c>) that continues the trace of the message's producer, or, for a
    /// message that carries no trace context (anyone may write to a topic), starts a trace of its own. Never a child of
    /// whatever span is current: a consumer starting one span per message of a batch would otherwise make each the
    /// child of the one before (a trace a thousand spans deep per batch, and a walk up that chain for every span).
    /// The span started becomes the current one, as any started span does.
    /// </summary>
    public static Activity? StartProcess(string topic, Headers? headers, Partition partition, Offset offset, string? consumerGroup = null, string? bootstrapServers = null)
    {
        var parent = ExtractContext(headers);
        var ambient = Activity.Current;
        if (parent == default && ambient is not null)
        {
            Activity.Current = null;
        }

        var activity = Source.StartActivity(SpanName("process", topic), ActivityKind.Consumer, parent);
        if (activity is null && Activity.Current != ambient)
        {
            // Nothing started (no listener, not sampled): the caller's current span stays as it was.
            Activity.Current = ambient;
        }

        if (activity is not null)
        {
            SetCommon(activity, "process", topic, bootstrapServers);
            SetPartition(activity, partition);
            activity.SetTag("messaging.kafka.offset", offset.Value);
            if (consumerGroup is not null)
            {
                activity.SetTag("messaging.consumer.group.name", consumerGroup);
            }
        }

        return activity;
    }

    /// <summary>The partition a message went to or came from: a string, as the conventions have it.</summary>
    public static void SetPartition(Activity? activity, Partition partition) =>
        activity?.SetTag("messaging.destination.partition.id", (uint)partition.Value < (uint)PartitionIds.Length
            ? PartitionIds[partition.Value]
            : partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Marks the span failed, with the error's low-cardinality type (an error code or an exception type).</summary>
    public static void SetError(Activity? activity, string errorType, string description)
    {
        activity?.SetStatus(ActivityStatusCode.Error, description);
        activity?.SetTag("error.type", errorType);
    }

    // A span per message: its name and partition id are made once, not per span (topics are few, partitions small numbers).
    private static readonly ConcurrentDictionary<(string Operation, string Topic), string> SpanNames = new();

    private static readonly string[] PartitionIds = [.. Enumerable.Range(0, 256).Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static string SpanName(string operation, string topic) =>
        SpanNames.GetOrAdd((operation, topic), static key => $"{key.Operation} {key.Topic}");

    private static void SetCommon(Activity activity, string operation, string topic, string? bootstrapServers)
    {
        activity.SetTag("messaging.system", "kafka");
        activity.SetTag("messaging.operation.name", operation);
        activity.SetTag("messaging.operation.type", operation);
        activity.SetTag("messaging.destination.name", topic);
        // The first bootstrap server stands for the cluster: host and port, as server.address and server.port.
        var first = bootstrapServers?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var colon = first?.LastIndexOf(':') ?? -1;
        if (first is not null && colon > 0 && int.TryParse(first[(colon + 1)..], out var port))
        {
            activity.SetTag("server.address", first[..colon]);
            activity.SetTag("server.port", port);
        }
    }
}
