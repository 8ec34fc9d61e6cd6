namespace Bidder.Tests.Support;

/// <summary>
/// For waits on something that may never come (a record, a health state, a condition): xunit's token, which
/// ends when the run is cancelled, linked with a three-minute guard. So a condition that never holds fails its
/// own test instead of hanging the whole run. A guard against hangs, not a performance assertion.
/// </summary>
internal static class HangGuard
{
    public static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    public static CancellationToken Token
    {
        get
        {
            var source = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
            source.CancelAfter(Limit);
            return source.Token;
        }
    }
}
