using System.Security.Cryptography;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Running;

namespace Bidder.LoadTest.Scenarios;

/// <summary>The users and items the tool makes, named after the run so that they can be told apart in a shared deployment.</summary>
internal static class TestData
{
    public static string UserName(string runId, string suffix) => $"loadtest-{runId}-{suffix}";

    /// <summary>Unique per run; <c>.invalid</c> is reserved (RFC 2606), so no mail could ever reach anyone.</summary>
    public static string Email(string runId, string suffix) => $"{runId}-{suffix}@loadtest.invalid";

    /// <summary>A random password, held in memory for the run only: 24 characters, far above the identity service's rules.</summary>
    public static string NewPassword() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));

    public static string ItemName(string runId, string suffix) => $"Load test item {runId}-{suffix}";

    /// <summary>An item as a seller would list it: a price from 1 to 500, a whole-second end, sometimes a picture.</summary>
    public static CreateItemBody NewItem(string name, TimeSpan lifetime, ref FastRandom random)
    {
        // Whole seconds: every store keeps them exactly, so the end the check compares bid dates to is the one sent.
        var end = DateTime.UtcNow + lifetime;
        end = new DateTime(end.Ticks - end.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var initCents = random.NextInt64(1_00, 500_00);
        string[]? pictures = random.Next(3) == 0 ? [$"https://pictures.example.com/{Uri.EscapeDataString(name)}.jpg"] : null;
        return new CreateItemBody(name, Money.FromCents(initCents), "EUR", pictures, end);
    }

    /// <param name="seller">The index of the user who created it.</param>
    public static ItemRecord ToRecord(ItemDto item, int seller) =>
        new(item.Id, Money.ToCents(item.InitBid), DateTime.SpecifyKind(item.BiddingEnddate, DateTimeKind.Utc), seller);
}
