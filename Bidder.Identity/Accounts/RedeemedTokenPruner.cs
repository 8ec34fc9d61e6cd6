using Bidder.Core.Storage;

namespace Bidder.Identity.Accounts;

/// <summary>Forgets the redemptions of codes and refresh tokens that have expired (the tokens themselves are refused by then).</summary>
internal sealed class RedeemedTokenPruner(ITokenRedemptions store, TimeProvider time, ILogger<RedeemedTokenPruner> logger) : HourlyPruner(time, logger)
{
    protected override string What => "redeemed token(s) past their expiry";

    protected override Task<long> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        store.ForgetExpiredRedemptionsAsync(now, cancellationToken);
}
