namespace Bidder.LoadTest.Ledger;

/// <summary>
/// An item the tool created, as one of its users (the seller, by index into the ledger's users: that user's bids
/// on it are rejected own_item). <see cref="SentHighCents"/> is the highest raise sent to it so far, so that
/// the next raise goes above it; the check never trusts it, it recomputes everything from the sent bids.
/// </summary>
internal sealed class ItemRecord(Guid id, long initCents, DateTime endUtc, int seller)
{
    public Guid Id { get; } = id;

    public int Seller { get; } = seller;

    public long InitCents { get; } = initCents;

    public long EndTicks { get; } = endUtc.Ticks;

    public long SentHighCents;

    public bool IsOpenAt(DateTime utcNow, TimeSpan margin) => utcNow.Ticks + margin.Ticks < EndTicks;
}

/// <summary>
/// A bid the API answered 202 for: what the check needs and nothing more, 40 bytes, so that millions fit.
/// Item and user are indexes into the ledger's lists; the bid date is the API's (it decides auction_closed).
/// </summary>
internal readonly record struct SentBid(Guid Id, int Item, int User, long Cents, long BidDateTicks);

/// <summary>Everything the run created and sent, kept for the end-state check.</summary>
internal sealed class RunLedger
{
    private readonly Lock _gate = new();
    private readonly List<SentBid> _bids = new(capacity: 4096);
    private readonly HashSet<int> _uncertainItems = [];
    private readonly HashSet<int> _uncertainUsers = [];

    /// <summary>Signed-in users only: a user whose sign-in failed cannot bid, so it is never picked.</summary>
    public AppendOnlyList<UserRecord> Users { get; } = new();

    public AppendOnlyList<ItemRecord> Items { get; } = new();

    /// <summary>Items created before the load: they stay open for the whole run, so a bid always finds one.</summary>
    public int SetupItemCount { get; set; }

    public int UncertainBids { get; private set; }

    public void RecordBid(in SentBid bid)
    {
        lock (_gate)
        {
            _bids.Add(bid);
        }
    }

    /// <summary>
    /// A bid that may or may not have been taken (no answer, even after retries): its item's winning bid and its
    /// user's count cannot be predicted any more, so the check leaves both out instead of reporting false failures.
    /// </summary>
    public void RecordUncertainBid(int item, int user)
    {
        lock (_gate)
        {
            UncertainBids++;
            _uncertainItems.Add(item);
            _uncertainUsers.Add(user);
        }
    }

    /// <summary>Only after the load has stopped.</summary>
    public IReadOnlyList<SentBid> Bids => _bids;

    public bool IsUncertainItem(int item) => _uncertainItems.Contains(item);

    public bool IsUncertainUser(int user) => _uncertainUsers.Contains(user);
}
