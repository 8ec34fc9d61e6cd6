namespace Bidder.LoadTest.Checking;

/// <summary>What the check found wrong: a count per kind, and the first few examples (a few of each kind, so one flood does not hide the rest).</summary>
internal sealed class Discrepancies
{
    public const int MaxExamples = 20;
    public const int MaxExamplesPerKind = 5;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _counts = [];
    private readonly List<string> _examples = [];

    public long Total
    {
        get
        {
            lock (_gate)
            {
                return _counts.Values.Sum();
            }
        }
    }

    /// <param name="detail">Null to only count it, where formatting millions of examples nobody reads would cost.</param>
    public void Add(string kind, string? detail)
    {
        lock (_gate)
        {
            var count = _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
            if (detail is not null && count <= MaxExamplesPerKind && _examples.Count < MaxExamples)
            {
                _examples.Add($"{kind}: {detail}");
            }
        }
    }

    public IReadOnlyDictionary<string, long> Counts()
    {
        lock (_gate)
        {
            return new SortedDictionary<string, long>(_counts, StringComparer.Ordinal);
        }
    }

    public IReadOnlyList<string> Examples()
    {
        lock (_gate)
        {
            return [.. _examples];
        }
    }
}

/// <summary>Kinds of discrepancy, as they appear in the reports.</summary>
internal static class DiscrepancyKind
{
    public const string Unprocessed = "unprocessed";
    public const string Unreadable = "unreadable";
    public const string WinningBid = "winning-bid";
    public const string WinningUser = "winning-user";
    public const string ItemBidCount = "item-bid-count";
    public const string UserBidCount = "user-bid-count";
    public const string UnknownBid = "unknown-bid";
    public const string DuplicateBid = "duplicate-bid";
    public const string MissingBid = "missing-bid";
    public const string StatusMismatch = "status-mismatch";
    public const string NotIncreasing = "not-increasing";
    public const string WrongVerdict = "wrong-verdict";
}
