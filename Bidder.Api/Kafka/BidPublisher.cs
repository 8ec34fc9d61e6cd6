using Bidder.Domain.Contracts;
using Bidder.Domain;
using Bidder.Core.Kafka;
using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Bidder.Api.Kafka;

/// <summary>What became of a bid handed to Kafka.</summary>
public enum PublishOutcome
{
    /// <summary>Kafka holds it (every in-sync replica acknowledged it).</summary>
    Persisted,

    /// <summary>Kafka certainly does not hold it.</summary>
    NotPersisted,

    /// <summary>No answer within the message timeout: it may or may not be on the topic.</summary>
    PossiblyPersisted,
}

/// <summary>
/// Puts posted bids on the bids topic, keyed by item id so that every bid of an item lands on one
/// partition, in order, and stamped with the bid's own date (the streamer refuses a bid whose date is far
/// from its message's). Returns only once Kafka has answered, or the producer's message timeout ran out.
/// </summary>
public sealed partial class BidPublisher(
    IProducer<string, byte[]> producer,
    [FromKeyedServices(KafkaTopicsInitializer.ConnectionName)] KafkaProducerSettings settings,
    IOptions<KafkaTopicsOptions> topics,
    ILogger<BidPublisher> logger)
{
    private readonly string _topic = topics.Value.Bids.Name;
    private readonly string? _bootstrapServers = settings.Config.BootstrapServers;

    public async Task<PublishOutcome> PublishAsync(PostedBid bid)
    {
        var message = new Message<string, byte[]>
        {
            Key = bid.ItemId.ToString(),
            Value = BidMessage.From(bid).ToUtf8Json(),
            // A retry with the same Idempotency-Key re-sends the bid as first posted: its message keeps that date too.
            Timestamp = new Timestamp(bid.BidDate),
            Headers = [],
        };

        using var activity = KafkaTelemetry.StartSend(_topic, message.Headers, _bootstrapServers);
        try
        {
            // Not cancelled with the request: once handed to the producer the bid lands or fails within the
            // message timeout whether or not the client still waits, and its Idempotency-Key makes the retry safe.
            var delivery = await producer.ProduceAsync(_topic, message, CancellationToken.None);
            KafkaTelemetry.SetPartition(activity, delivery.Partition);
            return Outcome(delivery.Status);
        }
        catch (KafkaException ex)
        {
            // The caller answers 503 and the client retries with the same key, which re-sends the same bid id.
            KafkaTelemetry.SetError(activity, ex.Error.Code.ToString(), ex.Error.Reason);
            var outcome = ex is ProduceException<string, byte[]> produce ? Outcome(produce.DeliveryResult.Status) : PublishOutcome.NotPersisted;
            LogNotPublished(bid.Id, ex.Error.Code, ex.Error.Reason, outcome);
            return outcome == PublishOutcome.Persisted ? PublishOutcome.PossiblyPersisted : outcome;
        }
    }

    private static PublishOutcome Outcome(PersistenceStatus status) => status switch
    {
        PersistenceStatus.Persisted => PublishOutcome.Persisted,
        PersistenceStatus.NotPersisted => PublishOutcome.NotPersisted,
        _ => PublishOutcome.PossiblyPersisted,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bid {BidId} was not confirmed by Kafka ({Code}: {Reason}; {Outcome}); answering 503.")]
    private partial void LogNotPublished(Guid bidId, ErrorCode code, string reason, PublishOutcome outcome);
}
