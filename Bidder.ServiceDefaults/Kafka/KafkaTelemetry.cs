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

    /// <summary>Starts a producer span and writes its context into <paramref name="headers"/>.</summary>
    public static Activity? StartPublish(string topic, Headers headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var activity = Source.StartActivity($"{topic} publish", ActivityKind.Producer);
        var context = activity?.Context ?? Activity.Current?.Context ?? default;
        if (context != default)
        {
            Propagator.Inject(new PropagationContext(context, Baggage.Current), headers, static (h, key, value) =>
            {
                h.Remove(key);
                h.Add(key, Encoding.UTF8.GetBytes(value));
            });
        }

        if (activity is not null)
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.destination.name", topic);
        }

        return activity;
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

    /// <summary>Starts a consumer span that continues the trace of the message's producer.</summary>
    public static Activity? StartProcess(string topic, Headers? headers, Partition partition, Offset offset)
    {
        var activity = Source.StartActivity($"{topic} process", ActivityKind.Consumer, ExtractContext(headers));
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.destination.name", topic);
            activity.SetTag("messaging.destination.partition.id", partition.Value);
            activity.SetTag("messaging.kafka.offset", offset.Value);
        }

        return activity;
    }
}
