using Bidder.Core.Contracts;
using Bidder.Core.Domain;
using Bidder.Core.Kafka;
using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Bidder.Api.Kafka;

/// <summary>
/// Puts posted bids on the bids topic, keyed by item id so that every bid of an item lands on one
/// partition, in order. Returns only once Kafka holds the bid (acks=all): true, or false when it could
/// not take it within the producer's message timeout.
/// </summary>
public sealed partial class BidPublisher(IProducer<string, byte[]> producer, IOptions<KafkaTopicsOptions> topics, ILogger<BidPublisher> logger)
{
    private readonly string _topic = topics.Value.Bids.Name;

    public async Task<bool> PublishAsync(PostedBid bid)
    {
        var message = new Message<string, byte[]>
        {
            Key = bid.ItemId.ToString(),
            Value = BidMessage.From(bid).ToUtf8Json(),
            Headers = [],
        };

        using var activity = KafkaTelemetry.StartPublish(_topic, message.Headers);
        try
        {
            // Not cancelled with the request: once handed to the producer the bid lands or fails within the
            // message timeout whether or not the client still waits, and its Idempotency-Key makes the retry safe.
            var delivery = await producer.ProduceAsync(_topic, message, CancellationToken.None);
            activity?.SetTag("messaging.destination.partition.id", delivery.Partition.Value);
            return delivery.Status == PersistenceStatus.Persisted;
        }
        catch (KafkaException ex)
        {
            // ProduceException included: the bid is not in Kafka. The caller answers 503 and the client retries.
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.Error.Reason);
            LogNotPublished(bid.Id, ex.Error.Code, ex.Error.Reason);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bid {BidId} was not taken by Kafka ({Code}: {Reason}); answering 503.")]
    private partial void LogNotPublished(Guid bidId, ErrorCode code, string reason);
}
