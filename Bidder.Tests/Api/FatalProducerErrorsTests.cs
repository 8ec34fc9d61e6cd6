using Bidder.Api.Kafka;
using Bidder.EmbeddedKafka;
using Bidder.Tests.Support;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bidder.Tests.Api;

/// <summary>The API producer's error handler, on a real idempotent producer and a broker of its own (the embedded one).</summary>
public class FatalProducerErrorsTests
{
    /// <summary>
    /// A fatal error of the idempotent producer (the broker answers a sequence it cannot accept) leaves a producer that
    /// can never produce again: the API stops with exit code 1 for its orchestrator to restart it, instead of refusing
    /// every bid with a 503 while its health checks, which read metadata, still say healthy. (Before, nothing heard the
    /// error: the producer had no error handler.)
    /// </summary>
    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_fatal_producer_error_stops_the_api_for_a_restart_and_a_transient_one_does_not()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("bids", 2);
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new FatalProducerErrors(new StoppingLifetime(stopped), NullLogger<FatalProducerErrors>.Instance);
        var config = new ProducerConfig { BootstrapServers = cluster.BootstrapServers, Acks = Acks.All, EnableIdempotence = true, LingerMs = 5 };
        using var producer = new ProducerBuilder<string, byte[]>(config)
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, error) => errors.Observe(error))
            .Build();
        var exitCode = Environment.ExitCode;
        try
        {
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("bids", Message(), TestContext.Current.CancellationToken)).Status);
            errors.Observe(new Error(ErrorCode.Local_AllBrokersDown));
            Assert.False(stopped.Task.IsCompleted);

            cluster.PushRequestErrors(KafkaApi.Produce, ErrorCode.OutOfOrderSequenceNumber);
            await Assert.ThrowsAsync<ProduceException<string, byte[]>>(() => producer.ProduceAsync("bids", Message(), TestContext.Current.CancellationToken));

            await stopped.Task.WaitAsync(HangGuard.Token);
            Assert.Equal(1, Environment.ExitCode);
        }
        finally
        {
            Environment.ExitCode = exitCode;
        }
    }

    private static Message<string, byte[]> Message() => new() { Key = Guid.CreateVersion7().ToString(), Value = [1] };

    private sealed class StoppingLifetime(TaskCompletionSource stopped) : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => CancellationToken.None;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => stopped.TrySetResult();
    }
}
