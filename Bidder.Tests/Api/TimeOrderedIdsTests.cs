using Bidder.Domain;

namespace Bidder.Tests.Api;

public class TimeOrderedIdsTests
{
    // With Guid.CreateVersion7 the API's ids within one millisecond came out in random order, and a user
    // listing showed two users created one after the other the wrong way round (seen in CI).
    [Fact]
    public void Ids_made_in_the_same_millisecond_rise_in_the_order_they_were_made_and_stay_version_7()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

        var ids = Enumerable.Range(0, 10_000).Select(_ => TimeOrderedIds.Next(at)).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids.Select(id => id.ToString()).Order(StringComparer.Ordinal), ids.Select(id => id.ToString()));
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        Assert.All(ids, id => Assert.Contains(id.ToString()[19], "89ab"));
        Assert.All(ids, id => Assert.StartsWith(at.ToUnixTimeMilliseconds().ToString("x12").Insert(8, "-"), id.ToString(), StringComparison.Ordinal));
    }
}
