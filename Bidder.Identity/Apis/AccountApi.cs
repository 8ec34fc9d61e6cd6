using System.Net.Mail;
using Bidder.Core.Http;
using Bidder.Domain;
using Bidder.Identity.Accounts;
using Bidder.Identity.Extensions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Bidder.Identity.Apis;

/// <summary>Accounts, for programs: a browser registers on the page at /account/signup.</summary>
public static class AccountApi
{
    /// <summary>The users' name limit, the one the API's POST /users/ has.</summary>
    public const int MaxNameLength = TextRules.MaxUserNameLength;

    /// <summary>RFC 5321's limit on a forward path.</summary>
    public const int MaxEmailLength = 254;

    /// <summary>Longer passwords only cost hashing time: a limit keeps a request from buying seconds of CPU.</summary>
    public const int MaxPasswordLength = 128;

    public static IEndpointRouteBuilder MapAccountApi(this IEndpointRouteBuilder app)
    {
        // For programs (JSON); people register on the page at /account/signup, where a browser that asks for this
        // path is sent.
        app.MapPost("/account/register", Register).WithName(nameof(Register))
            .Accepts<RegisterRequest>("application/json")
            .DisableAntiforgery()
            .RequireRateLimiting(HttpLimits.SignIn);
        app.MapGet("/account/register", (HttpContext context) => Results.Redirect($"/account/signup{context.Request.QueryString}"))
            .ExcludeFromDescription();
        return app;
    }

    public static async Task<Results<Created<AccountResponse>, ValidationProblem, ProblemHttpResult>> Register(
        HttpRequest request, AccountRegistration registration, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadAsync(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        using (body)
        {
            var fields = new JsonFields(body!.RootElement);
            var name = fields.RequiredText("name", MaxNameLength);
            var email = fields.RequiredText("email", MaxEmailLength);
            var password = fields.RequiredText("password", MaxPasswordLength);
            if (!fields.IsValid)
            {
                return Problems.Invalid(fields.Errors);
            }

            var (account, errors) = await registration.RegisterAsync(name!, email!, password!);
            if (account is null)
            {
                return errors!.ContainsKey(AccountRegistration.DuplicateField)
                    ? Problems.Create(StatusCodes.Status409Conflict, "Email taken", "An account with this email exists already; sign in instead.")
                    : Problems.Invalid(errors);
            }

            return TypedResults.Created(registration.UserLocation(account.Id), new AccountResponse(account.Id, name!, account.Email, account.CreatedDate.UtcDateTime));
        }
    }
}

/// <summary>The body of POST /account/register.</summary>
public sealed record RegisterRequest(string Name, string Email, string Password);

/// <summary>A new account: its id is the Bidder user id.</summary>
public sealed record AccountResponse(Guid Id, string Name, string Email, DateTime CreatedDate);

/// <summary>Creating an account, shared by the JSON endpoint and the registration page: one set of rules.</summary>
public sealed class AccountRegistration(UserManager<IdentityAccount> users, TimeProvider time, IOptions<BidderIdentityOptions> options)
{
    /// <summary>The errors key of a taken email.</summary>
    public const string DuplicateField = "email_taken";

    public async Task<(IdentityAccount? Account, Dictionary<string, string[]>? Errors)> RegisterAsync(string name, string email, string password)
    {
        if (TextRules.Problem(name, AccountApi.MaxNameLength) is { } nameProblem)
        {
            return (null, new() { ["name"] = [$"'name' {nameProblem}"] });
        }

        if (!MailAddress.TryCreate(email, out var address) || address.Address != email.Trim() || email.Length > AccountApi.MaxEmailLength)
        {
            return (null, new() { ["email"] = ["'email' must be an email address such as ada@example.com."] });
        }

        var now = time.GetUtcNowMilliseconds();
        var account = new IdentityAccount { Id = TimeOrderedIds.Next(now), Name = name, Email = address.Address, CreatedDate = now };
        var result = await users.CreateAsync(account, password);
        if (result.Succeeded)
        {
            return (account, null);
        }

        if (result.Errors.Any(e => e.Code is nameof(IdentityErrorDescriber.DuplicateEmail) or nameof(IdentityErrorDescriber.DuplicateUserName)
            || e.Code == AccountUserStore.DuplicateEmail.Code))
        {
            return (null, new() { [DuplicateField] = ["An account with this email exists already."] });
        }

        return (null, new() { ["password"] = [.. result.Errors.Select(e => e.Description)] });
    }

    public string UserLocation(Guid id) => options.Value.ApiUrl is { } api ? new Uri(api, $"/users/{id}").AbsoluteUri : $"/users/{id}";
}
