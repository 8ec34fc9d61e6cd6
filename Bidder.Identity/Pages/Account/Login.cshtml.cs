using Bidder.Identity.Accounts;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Bidder.Identity.Pages.Account;

/// <summary>The browser's sign-in: sets the identity service's cookie, then returns to the authorization request.</summary>
[IgnoreAntiforgeryToken] // Checked in OnPostAsync (FormVerification).
public sealed class LoginModel(PasswordChecks passwords, IAntiforgery antiforgery, ILogger<LoginModel> logger) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!await FormVerification.IsValidAsync(HttpContext, antiforgery, logger))
        {
            Error = FormVerification.Refused;
            return new PageResult { StatusCode = StatusCodes.Status400BadRequest };
        }

        var (_, result) = await passwords.CheckAsync(Email ?? "", Password ?? "", signInCookie: true);
        if (result.Succeeded)
        {
            // Only back into this service (the authorization endpoint): never to a URL someone put in a link.
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
        }

        Error = result.IsLockedOut
            ? "Too many wrong passwords: this account is locked for a few minutes."
            : "The email or password is wrong.";
        return Page();
    }
}
