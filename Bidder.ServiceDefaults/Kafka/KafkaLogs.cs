using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Bidder.ServiceDefaults.Kafka;

/// <summary>
/// librdkafka's own log lines (connections, rebalances, errors) into <see cref="ILogger"/>, category
/// <c>Confluent.Kafka</c>, as Aspire.Confluent.Kafka does: they reach the dashboard and the OTLP exporter
/// with the service's other logs instead of going to stderr.
/// </summary>
internal static class KafkaLogs
{
    public const string Category = "Confluent.Kafka";

    public static Action<TClient, LogMessage> Handler<TClient>(ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(Category);
        return (_, message) =>
        {
            var level = Level(message.Level);
            if (logger.IsEnabled(level))
            {
                logger.Log(level, "{Client} {Facility}: {Message}", message.Name, message.Facility, message.Message);
            }
        };
    }

    /// <summary>Sets the handler unless the caller's builder callback set one of its own, which then wins.</summary>
    public static void Use<TClient, TBuilder>(Func<Action<TClient, LogMessage>, TBuilder> setLogHandler, Action<TClient, LogMessage> handler)
    {
        try
        {
            setLogHandler(handler);
        }
        catch (InvalidOperationException)
        {
            // "Log handler may not be specified more than once": the caller's handler stays.
        }
    }

    private static LogLevel Level(SyslogLevel level) => level switch
    {
        SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
        SyslogLevel.Error => LogLevel.Error,
        SyslogLevel.Warning => LogLevel.Warning,
        SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
        _ => LogLevel.Debug,
    };
}
