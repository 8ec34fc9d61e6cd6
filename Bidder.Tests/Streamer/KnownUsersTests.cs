using Bidder.Streamer.Pipeline;

namespace Bidder.Tests.Streamer;

/// <summary>The streamer's memory of confirmed users: it only ever answers "known" for an id it was given, and stays bounded.</summary>
public sealed class KnownUsersTests
{
    [Fact]
    public void It_knows_the_confirmed_ids_only_and_starts_over_past_its_capacity()
    {
        var known = new KnownUsers();
        var confirmed = Guid.NewGuid();
        known.AddRange([confirmed]);
        Assert.True(known.Contains(confirmed));
        Assert.False(known.Contains(Guid.NewGuid()));

        known.AddRange(Enumerable.Range(0, KnownUsers.Capacity).Select(_ => Guid.NewGuid()));
        // Full: it started over, and forgot the first id (asked about again, never wrongly known).
        Assert.False(known.Contains(confirmed));
    }
}
