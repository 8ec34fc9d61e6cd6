using Microsoft.Extensions.Caching.Memory;

namespace Bidder.Identity.Accounts;

/// <summary>
/// Makes authorization codes and refresh tokens single-use although they are self-contained (OpenIddict's degraded
/// mode keeps no token store): each one redeemed is remembered until the token would have
/// expired anyway (by the hash of the token itself), and a second redemption is refused (RFC 6749 §4.1.2: a code used twice MUST be denied; OAuth 2.1:
/// public clients' refresh tokens rotate). Kept in this process's memory, bounded in size: it holds for the one
/// identity replica every mode runs; replicas or a restart in between would each keep their own memory.
/// </summary>
public sealed class RedeemedTokens : IDisposable
{
    // An entry is a few hundred bytes: 200,000 of them stay well under 100 MB, far beyond what the sign-in rate
    // limit lets through in a refresh token's lifetime on one address.
    private readonly MemoryCache _redeemed = new(new MemoryCacheOptions { SizeLimit = 200_000 });
    private readonly object _gate = new();

    /// <summary>True the first time <paramref name="tokenId"/> is redeemed; false every time after.</summary>
    public bool TryRedeem(string tokenId, DateTimeOffset expires)
    {
        lock (_gate)
        {
            if (_redeemed.TryGetValue(tokenId, out _))
            {
                return false;
            }

            _redeemed.Set(tokenId, true, new MemoryCacheEntryOptions { AbsoluteExpiration = expires, Size = 1 });
            return true;
        }
    }

    public void Dispose() => _redeemed.Dispose();
}
