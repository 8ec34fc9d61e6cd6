using Microsoft.AspNetCore.Identity;

namespace Bidder.Identity.Accounts;

/// <summary>
/// Checking a password, for the token endpoint and the sign-in page alike, so that both count failures toward the
/// lockout and both take as long for an unknown email as for a wrong password (the answer's timing does not tell
/// which emails have accounts). Checks of one account are taken one at a time in this process: parallel guesses
/// would otherwise all read the same failure count, write it back one higher, and get more tries than the lockout
/// allows. (Replicas of the identity service each keep their own order; the per-address rate limit bounds the rest.)
/// </summary>
public sealed class PasswordChecks(UserManager<IdentityAccount> users, SignInManager<IdentityAccount> signIn)
{
    // Striped, so memory stays bounded whatever emails are tried; different accounts rarely share a stripe.
    private static readonly SemaphoreSlim[] Stripes = [.. Enumerable.Range(0, 256).Select(_ => new SemaphoreSlim(1, 1))];

    // A hash of a random password, verified when no account has the email.
    private static readonly string TimingHash = new PasswordHasher<IdentityAccount>().HashPassword(new IdentityAccount(), Guid.NewGuid().ToString());

    /// <param name="signInCookie">Whether a success also signs the browser in (the sign-in page) or only answers (the token endpoint).</param>
    public async Task<(IdentityAccount? Account, SignInResult Result)> CheckAsync(string email, string password, bool signInCookie)
    {
        var stripe = Stripes[(int)((uint)StringComparer.OrdinalIgnoreCase.GetHashCode(email) % (uint)Stripes.Length)];
        await stripe.WaitAsync();
        try
        {
            // Read inside the turn, so the failure count is the one the previous check wrote.
            var account = await users.FindByEmailAsync(email);
            if (account is null)
            {
                users.PasswordHasher.VerifyHashedPassword(new IdentityAccount(), TimingHash, password);
                return (null, SignInResult.Failed);
            }

            var result = signInCookie
                ? await signIn.PasswordSignInAsync(account, password, isPersistent: false, lockoutOnFailure: true)
                : await signIn.CheckPasswordSignInAsync(account, password, lockoutOnFailure: true);
            return (account, result);
        }
        finally
        {
            stripe.Release();
        }
    }
}
