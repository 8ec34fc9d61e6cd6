using System.Net;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Options;
using Bidder.LoadTest.Running;

namespace Bidder.LoadTest.Scenarios;

/// <summary>
/// The scenarios: one request each, chosen by the mix, with every random choice drawn from the request's own
/// generator. Bids are recorded in the ledger for the end-state check; everything is recorded in the stats.
/// What a user does is sent with that user's token; public reads go without one, as a visitor's.
/// </summary>
internal sealed class Workload(BidderClient api, IdentityClient identity, SignIns signIns, RunLedger ledger, RunStats stats, LoadTestOptions options, string runId)
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
                await ReadAsync(kind, $"/items/{RandomItem(ref random).Id}", null, cancellationToken);
                break;
            case RequestKind.ReadBids:
                await ReadAsync(kind, $"/items/{RandomItem(ref random).Id}/bids?limit=20", null, cancellationToken);
                break;
            case RequestKind.ListItems:
                await ReadAsync(kind, "/items/?limit=20", null, cancellationToken);
                break;
            case RequestKind.ReadUser:
                // A bidder's "my bids" page: a user's bids are theirs alone to see.
                var reader = ledger.Users[random.Next(ledger.Users.Count)];
                await ReadAsync(kind, $"/users/{reader.Id}/bids?limit=20", reader, cancellationToken);
                break;
            case RequestKind.Register:
                await RegisterAsync($"r{sequence}", cancellationToken);
                break;
            case RequestKind.CreateItem:
                var seller = random.Next(ledger.Users.Count);
                // Short auctions, so that some close during the run and late bids meet auction_closed.
                var lifetime = TimeSpan.FromSeconds(random.NextInt64(15, 120));
                await CreateItemAsync(seller, TestData.NewItem(TestData.ItemName(runId, $"r{sequence}"), lifetime, ref random), cancellationToken);
                break;
        }
    }

    /// <summary>A new account, which then signs in (counted as sign-in) and bids from then on like the others.</summary>
    private async Task RegisterAsync(string suffix, CancellationToken cancellationToken)
    {
        var email = TestData.Email(runId, suffix);
        var password = TestData.NewPassword();
        var response = await identity.RegisterAsync(new RegisterBody(TestData.UserName(runId, suffix), email, password), cancellationToken);
        var created = response.Status == (int)HttpStatusCode.Created && response.Body is not null;
        stats.Record(RequestKind.Register, response.Status, response.Elapsed, created);
        if (!created)
        {
            return;
        }

        // A user who cannot sign in cannot bid: it stays out of the ledger (and so out of the check; it has no bids).
        var user = new UserRecord(response.Body!.Id, email, password);
        if (await signIns.SignInAsync(user, cancellationToken) is null)
        {
            ledger.Users.Add(user);
        }
    }

    private async Task CreateItemAsync(int seller, CreateItemBody item, CancellationToken cancellationToken)
    {
        var user = ledger.Users[seller];
        var response = Signed(user, await api.CreateItemAsync(item, signIns.AuthorizationFor(user), cancellationToken));
        var created = response.Status == (int)HttpStatusCode.Created && response.Body is not null;
        stats.Record(RequestKind.CreateItem, response.Status, response.Elapsed, created);
        if (created)
        {
            ledger.Items.Add(TestData.ToRecord(response.Body!, seller));
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
        // Any user, the item's seller too: that bid is rejected own_item, and the check expects just that.
        var userIndex = random.Next(ledger.Users.Count);
        var user = ledger.Users[userIndex];
        var cents = BidValues.ValueFor(intent, item, ref random);
        var body = new CreateBidBody(item.Id, Money.FromCents(cents), Client);
        var idempotencyKey = options.IdempotencyKeys ? $"loadtest-{runId}-{sequence}" : null;

        for (var attempt = 1; ; attempt++)
        {
            // Asked again on every attempt: a retry after a wait may find the token renewed.
            var response = Signed(user, await api.PostBidAsync(body, idempotencyKey, signIns.AuthorizationFor(user), cancellationToken));
            var accepted = response.Status == (int)HttpStatusCode.Accepted && response.Body is not null;
            stats.Record(RequestKind.Bid, response.Status, response.Elapsed, accepted);
            if (accepted)
            {
                var bidDate = DateTime.SpecifyKind(response.Body!.BidDate, DateTimeKind.Utc);
                ledger.RecordBid(new SentBid(response.Body.Id, itemIndex, userIndex, cents, bidDate.Ticks));
                return;
            }

            // A 429 or 401 included: refused before it was read, so certainly not taken.
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

    /// <param name="user">The reader, or null for a public read.</param>
    private async Task ReadAsync(RequestKind kind, string path, UserRecord? user, CancellationToken cancellationToken)
    {
        var response = await api.GetAsync(path, user is null ? null : signIns.AuthorizationFor(user), cancellationToken);
        if (user is not null)
        {
            Signed(user, response);
        }

        stats.Record(kind, response.Status, response.Elapsed, response.Status == (int)HttpStatusCode.OK);
    }

    /// <summary>A 401 means the API no longer takes the user's token (the identity service restarted with new keys, say): renew it.</summary>
    private ApiResponse<T> Signed<T>(UserRecord user, ApiResponse<T> response)
    {
        if (response.Status == (int)HttpStatusCode.Unauthorized)
        {
            signIns.Renew(user);
        }

        return response;
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
