using System.Net;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Options;
using Bidder.LoadTest.Running;

namespace Bidder.LoadTest.Scenarios;

/// <summary>
/// The scenarios: one request each, chosen by the mix, with every random choice drawn from the request's own
/// generator. Bids are recorded in the ledger for the end-state check; everything is recorded in the stats.
/// </summary>
internal sealed class Workload(BidderClient api, RunLedger ledger, RunStats stats, LoadTestOptions options, string runId)
{
    public const string Client = "loadtest";

    // A raise on an item closing within this margin could arrive after the end; those are left to the "late" share.
    private static readonly TimeSpan OpenMargin = TimeSpan.FromSeconds(2);
    private const int MaxBidAttempts = 3;
    private const int PickAttempts = 8;

    public async Task ExecuteAsync(long sequence, CancellationToken cancellationToken)
    {
        var random = FastRandom.For(options.Seed, sequence);
        var kind = options.Mix.Pick(ref random);
        switch (kind)
        {
            case RequestKind.Bid:
                await BidAsync(random, sequence, cancellationToken);
                break;
            case RequestKind.ReadItem:
                await ReadAsync(kind, $"/items/{RandomItem(ref random).Id}", cancellationToken);
                break;
            case RequestKind.ReadBids:
                await ReadAsync(kind, $"/items/{RandomItem(ref random).Id}/bids?limit=20", cancellationToken);
                break;
            case RequestKind.ListItems:
                await ReadAsync(kind, "/items/?limit=20", cancellationToken);
                break;
            case RequestKind.ReadUser:
                await ReadAsync(kind, $"/users/{ledger.Users[random.Next(ledger.Users.Count)]}/bids?limit=20", cancellationToken);
                break;
            case RequestKind.CreateUser:
                await CreateUserAsync(TestData.UserName(runId, $"r{sequence}"), cancellationToken);
                break;
            case RequestKind.CreateItem:
                // Short auctions, so that some close during the run and late bids meet auction_closed.
                var lifetime = TimeSpan.FromSeconds(random.NextInt64(15, 120));
                await CreateItemAsync(TestData.NewItem(TestData.ItemName(runId, $"r{sequence}"), lifetime, ref random), cancellationToken);
                break;
        }
    }

    private async Task CreateUserAsync(string name, CancellationToken cancellationToken)
    {
        var response = await api.CreateUserAsync(name, cancellationToken);
        var created = response.Status == (int)HttpStatusCode.Created && response.Body is not null;
        stats.Record(RequestKind.CreateUser, response.Status, response.Elapsed, created);
        if (created)
        {
            ledger.Users.Add(response.Body!.Id);
        }
    }

    private async Task CreateItemAsync(CreateItemBody item, CancellationToken cancellationToken)
    {
        var response = await api.CreateItemAsync(item, cancellationToken);
        var created = response.Status == (int)HttpStatusCode.Created && response.Body is not null;
        stats.Record(RequestKind.CreateItem, response.Status, response.Elapsed, created);
        if (created)
        {
            ledger.Items.Add(TestData.ToRecord(response.Body!));
        }
    }

    private async Task BidAsync(FastRandom random, long sequence, CancellationToken cancellationToken)
    {
        var intent = BidValues.PickIntent(ref random);
        var now = DateTime.UtcNow;
        var itemIndex = intent == BidIntent.Late ? ClosedItem(now, ref random) : -1;
        if (itemIndex < 0)
        {
            intent = intent == BidIntent.Late ? BidIntent.Raise : intent;
            itemIndex = OpenItem(now, ref random);
        }

        var item = ledger.Items[itemIndex];
        var userIndex = random.Next(ledger.Users.Count);
        var cents = BidValues.ValueFor(intent, item, ref random);
        var body = new CreateBidBody(item.Id, ledger.Users[userIndex], Money.FromCents(cents), Client);
        var idempotencyKey = options.IdempotencyKeys ? $"loadtest-{runId}-{sequence}" : null;

        for (var attempt = 1; ; attempt++)
        {
            var response = await api.PostBidAsync(body, idempotencyKey, cancellationToken);
            var accepted = response.Status == (int)HttpStatusCode.Accepted && response.Body is not null;
            stats.Record(RequestKind.Bid, response.Status, response.Elapsed, accepted);
            if (accepted)
            {
                var bidDate = DateTime.SpecifyKind(response.Body!.BidDate, DateTimeKind.Utc);
                ledger.RecordBid(new SentBid(response.Body.Id, itemIndex, userIndex, cents, bidDate.Ticks));
                return;
            }

            if (!response.OutcomeUnknown)
            {
                return;
            }

            // Only the same Idempotency-Key makes a retry safe: it returns the first bid if Kafka already holds it.
            if (idempotencyKey is null || attempt == MaxBidAttempts)
            {
                ledger.RecordUncertainBid(itemIndex, userIndex);
                return;
            }

            var backoff = TimeSpan.FromMilliseconds(200 * attempt);
            await Task.Delay(response.RetryAfter is { } retryAfter && retryAfter > backoff ? retryAfter : backoff, cancellationToken);
        }
    }

    private async Task ReadAsync(RequestKind kind, string path, CancellationToken cancellationToken)
    {
        var response = await api.GetAsync(path, cancellationToken);
        stats.Record(kind, response.Status, response.Elapsed, response.Status == (int)HttpStatusCode.OK);
    }

    private ItemRecord RandomItem(ref FastRandom random) => ledger.Items[random.Next(ledger.Items.Count)];

    /// <summary>A random open item; the setup's items stay open all run, so one is always found.</summary>
    private int OpenItem(DateTime now, ref FastRandom random)
    {
        for (var attempt = 0; attempt < PickAttempts; attempt++)
        {
            var index = random.Next(ledger.Items.Count);
            if (ledger.Items[index].IsOpenAt(now, OpenMargin))
            {
                return index;
            }
        }

        return random.Next(ledger.SetupItemCount);
    }

    /// <returns>A random closed item, or -1 when none was found (none has closed yet).</returns>
    private int ClosedItem(DateTime now, ref FastRandom random)
    {
        for (var attempt = 0; attempt < PickAttempts; attempt++)
        {
            var index = random.Next(ledger.Items.Count);
            if (!ledger.Items[index].IsOpenAt(now, TimeSpan.Zero))
            {
                return index;
            }
        }

        return -1;
    }
}
