namespace Bidder.Core.Storage;

/// <summary>
/// The authorization codes and refresh tokens the identity service has redeemed, so that each is redeemed once
/// (RFC 6749 §4.1.2; OAuth 2.1's rotating refresh tokens) however many replicas answer and whatever restarts come in
/// between: its tokens are self-contained (no token store), so each is known by the id it carries. Made by
/// <see cref="IAccountStore.InitializeAsync"/>, on the same adapter.
/// </summary>
public interface ITokenRedemptions
{
    /// <summary>
    /// Records the redemption of <paramref name="token"/>: true for the call that records it, false for every call
    /// after (of several at once, exactly one is true). Kept at least until <paramref name="expires"/>, past which the
    /// token itself is refused.
    /// </summary>
    Task<bool> RedeemAsync(string token, DateTimeOffset expires, CancellationToken cancellationToken);

    /// <summary>Forgets the redemptions of tokens expired before <paramref name="now"/>; how many were forgotten.</summary>
    Task<long> ForgetExpiredRedemptionsAsync(DateTimeOffset now, CancellationToken cancellationToken);
}
