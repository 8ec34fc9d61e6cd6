namespace Bidder.LoadTest.Checking;

internal enum BidState : byte
{
    Pending,
    Accepted,
    Rejected,
}

/// <summary>The reasons the API gives, as one-byte codes so that millions of outcomes stay small.</summary>
internal static class Reasons
{
    public const byte None = 0;
    public const byte Other = byte.MaxValue;

    // In the order the streamer applies its rules (Bidder.Domain's BidRules), as the README lists them.
    public static readonly string[] Names = ["", "malformed", "value_too_high", "unknown_user", "unknown_item", "own_item", "auction_closed", "below_init_bid", "too_low"];

    public static readonly byte ValueTooHigh = Code("value_too_high");
    public static readonly byte OwnItem = Code("own_item");
    public static readonly byte AuctionClosed = Code("auction_closed");
    public static readonly byte BelowInitBid = Code("below_init_bid");
    public static readonly byte TooLow = Code("too_low");

    public static byte Code(string? reason)
    {
        if (string.IsNullOrEmpty(reason))
        {
            return None;
        }

        var index = Array.IndexOf(Names, reason);
        return index < 0 ? Other : (byte)index;
    }

    public static string Name(byte code) => code == Other ? "other" : Names[code];
}

/// <summary>What the API says became of each sent bid, by the bid's index in the ledger.</summary>
internal sealed class BidOutcomes(int count)
{
    public BidState[] States { get; } = new BidState[count];

    public byte[] Reasons { get; } = new byte[count];

    public void Record(int index, string status, string? reason)
    {
        Reasons[index] = Checking.Reasons.Code(reason);
        States[index] = StateOf(status);
    }

    public static BidState StateOf(string status) => status switch
    {
        "accepted" => BidState.Accepted,
        "rejected" => BidState.Rejected,
        _ => BidState.Pending,
    };

    public string Describe(int index) => States[index] switch
    {
        BidState.Accepted => "accepted",
        BidState.Rejected => $"rejected ({Checking.Reasons.Name(Reasons[index])})",
        _ => "pending",
    };
}
