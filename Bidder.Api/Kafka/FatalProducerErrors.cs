using Confluent.Kafka;

namespace Bidder.Api.Kafka;

/// <summary>
/// The producer's error handler. A fatal error of the idempotent producer (the broker cannot accept its sequence:
/// out of order, or a producer id it lost) leaves a producer that fails every later bid, and only a new producer, a
/// new process, produces again. So the API stops with exit code 1, for its orchestrator to restart it, rather than
/// answer 503 to every bid while its health checks (which read metadata) still say healthy. Other errors (all brokers
/// down, a refused SASL login, a TLS handshake) are logged as warnings: with an error handler set, librdkafka leaves
/// them to it rather than to its log.
/// </summary>
public sealed partial class FatalProducerErrors(IHostApplicationLifetime lifetime, ILogger<FatalProducerErrors> logger)
{
    public void Observe(Error error)
    {
        if (!error.IsFatal)
        {
            LogError(error.Code, error.Reason);
            return;
        }

        LogFatal(error.Code, error.Reason);
        Environment.ExitCode = 1;
        lifetime.StopApplication();
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "The Kafka producer failed fatally ({Code}: {Reason}): it can produce no bid again; stopping with exit code 1 for the orchestrator to restart the API.")]
    private partial void LogFatal(ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Kafka producer error ({Code}: {Reason}); the client retries.")]
    private partial void LogError(ErrorCode code, string reason);
}
