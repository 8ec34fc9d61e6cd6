using System.Diagnostics;
using System.Net;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Running;

namespace Bidder.LoadTest.Scenarios;

/// <summary>
/// Signs the users in (the password grant) and keeps their access tokens fresh, as a long-running client does:
/// a token is renewed with its refresh token while 2 to 5 minutes of it are left (a share of a short lifetime),
/// at a moment drawn per token, so that the tokens of the users who signed in together during the setup are not
/// all renewed in the same second. Requests meanwhile go on with the current token, still valid; a user has one
/// renewal at a time, and the run at most <see cref="MaxParallel"/> token requests in flight, each 429 waited out.
/// </summary>
internal sealed class SignIns(IdentityClient identity, CancellationToken stopping)
{
    /// <summary>The token endpoint hashes a password or checks a refresh token, and is rate limited per client address: a few at a time is as fast as it goes.</summary>
    public const int MaxParallel = 8;

    private static readonly TimeSpan RenewMargin = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan RenewSpread = TimeSpan.FromMinutes(3);

    /// <summary>When a token endpoint answers no expires_in: the identity service's default lifetime.</summary>
    private static readonly TimeSpan AssumedLifetime = TimeSpan.FromMinutes(30);

    /// <summary>After a renewal that failed (no answer, a 5xx): the current token serves until the next try, if it is still valid.</summary>
    private static readonly TimeSpan RetryFailedRenewal = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _slots = new(MaxParallel);
    private RunStats? _stats;
    private long _rateLimited;

    /// <summary>Token requests refused with 429 (and asked again) so far.</summary>
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    /// <summary>While set, token requests are counted in the load's stats (as sign-in): they are load the run puts on the system too.</summary>
    public void CountIn(RunStats? stats) => Volatile.Write(ref _stats, stats);

    /// <returns>Null once the user is signed in, else why not.</returns>
    public async Task<string?> SignInAsync(UserRecord user, CancellationToken cancellationToken)
    {
        var response = await RequestTokenAsync(token => identity.PasswordGrantAsync(user.Email, user.Password, token), cancellationToken);
        return Publish(user, response) ? null : $"POST {IdentityClient.TokenRoute} answered {response.Describe()}";
    }

    /// <summary>The user's <c>Authorization</c> value. When its token is due, a renewal starts in the background and this one is still returned.</summary>
    public string AuthorizationFor(UserRecord user)
    {
        var token = user.Token;
        if (Stopwatch.GetTimestamp() >= token.RenewAt)
        {
            Renew(user);
        }

        return token.Authorization;
    }

    /// <summary>Renews the user's token now, in the background: when it is due, or when the API refused it (401).</summary>
    public void Renew(UserRecord user)
    {
        if (!stopping.IsCancellationRequested && user.TryBeginRenewal())
        {
            // Off the caller's thread: a worker about to send a request must not first send a token request.
            _ = Task.Run(() => RenewAsync(user), CancellationToken.None);
        }
    }

    private async Task RenewAsync(UserRecord user)
    {
        try
        {
            var current = user.Token;
            ApiResponse<TokenDto>? response = null;
            if (current.RefreshToken is { } refreshToken)
            {
                response = await RequestTokenAsync(token => identity.RefreshGrantAsync(refreshToken, token), stopping);
            }

            // No refresh token, or one the identity service refuses (invalid_grant: it restarted with new keys, or the
            // account changed): the tool holds the password, so it signs in again rather than losing the user.
            if (response is null or { Status: (int)HttpStatusCode.BadRequest })
            {
                response = await RequestTokenAsync(token => identity.PasswordGrantAsync(user.Email, user.Password, token), stopping);
            }

            if (!Publish(user, response.Value))
            {
                user.Publish(current with { RenewAt = Stopwatch.GetTimestamp() + Ticks(RetryFailedRenewal) });
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
        finally
        {
            user.EndRenewal();
        }
    }

    private async Task<ApiResponse<TokenDto>> RequestTokenAsync(Func<CancellationToken, Task<ApiResponse<TokenDto>>> send, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return await RateLimitRetry.SendAsync(send, cancellationToken, response =>
            {
                if (response.RateLimited)
                {
                    Interlocked.Increment(ref _rateLimited);
                }

                Volatile.Read(ref _stats)?.Record(RequestKind.SignIn, response.Status, response.Elapsed, response.Status == (int)HttpStatusCode.OK);
            });
        }
        finally
        {
            _slots.Release();
        }
    }

    private static bool Publish(UserRecord user, ApiResponse<TokenDto> response)
    {
        if (response is not { Status: (int)HttpStatusCode.OK, Body: { AccessToken.Length: > 0 } body })
        {
            return false;
        }

        // The lifetime runs from no later than when the token was asked for.
        var asked = Stopwatch.GetTimestamp() - Ticks(response.Elapsed);
        var lifetime = body.ExpiresIn > 0 ? TimeSpan.FromSeconds(body.ExpiresIn) : AssumedLifetime;
        var margin = Min(RenewMargin, lifetime / 2) + Min(RenewSpread, lifetime / 4) * Random.Shared.NextDouble();
        // Without a new refresh token (no rotation), the one the user has stays good.
        user.Publish(new UserToken($"Bearer {body.AccessToken}", body.RefreshToken ?? user.Token.RefreshToken, asked + Ticks(lifetime - margin)));
        return true;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
