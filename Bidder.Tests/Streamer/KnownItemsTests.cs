using Bidder.Domain;
using Bidder.Streamer.Pipeline;

namespace Bidder.Tests.Streamer;

/// <summary>The streamer's memory of items the database returned: it answers only with what it was given, forgets on demand, and stays bounded.</summary>
public sealed class KnownItemsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void It_returns_the_items_it_was_given_forgets_them_when_cleared_and_starts_over_past_its_capacity()
    {
        var known = new KnownItems();
        var lamp = Item();
        known.AddRange([lamp]);
        Assert.True(known.TryGet(lamp.Id, out var found));
        Assert.Same(lamp, found);
        Assert.False(known.TryGet(Guid.NewGuid(), out _));

        known.Clear();
        Assert.False(known.TryGet(lamp.Id, out _));

        known.AddRange([lamp]);
        known.AddRange(Enumerable.Range(0, KnownItems.Capacity).Select(_ => Item()));
        // Full: it started over, and forgot the lamp (asked about again, never answered wrongly).
        Assert.False(known.TryGet(lamp.Id, out _));
        Assert.InRange(known.Count, 1, KnownItems.Capacity);
    }

    private static Item Item() => new(Guid.NewGuid(), "lamp", 10m, 0m, null, null, "EUR", [], 0, Now, Now.AddDays(1));
}
