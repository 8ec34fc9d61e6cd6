namespace Bidder.LoadTest.Checking;

/// <summary>The end-state check's verdict, with the counts behind it.</summary>
internal sealed record CheckResult(
    bool Passed,
    double Seconds,
    long Requests,
    long BidsTaken,
    long BidsProcessed,
    long BidsUnprocessed,
    long Accepted,
    IReadOnlyDictionary<string, long> RejectedByReason,
    int UncertainBids,
    int ItemsChecked,
    int ItemsSkipped,
    int UsersChecked,
    int UsersSkipped,
    long DiscrepancyCount,
    IReadOnlyDictionary<string, long> DiscrepanciesByKind,
    IReadOnlyList<string> Examples);
