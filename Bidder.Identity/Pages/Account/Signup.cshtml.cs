using Bidder.Identity.Accounts;
using Bidder.Identity.Apis;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Bidder.Identity.Pages.Account;

/// <summary>The browser's registration (/account/signup): the same rules as the JSON POST /account/register, then signed in at once.</summary>
[IgnoreAntiforgeryToken] // Checked in OnPostAsync (FormVerification).
public sealed class SignupModel(
    AccountRegistration registration, SignInManager<IdentityAccount> signIn, IAntiforgery antiforgery, ILogger<SignupModel> logger) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public string? Name { get; set; }

    [BindProperty]
    public string? Email { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    public List<string> Errors { get; } = [];

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!await FormVerification.IsValidAsync(HttpContext, antiforgery, logger))
        {
            Errors.Add(FormVerification.Refused);
            return new PageResult { StatusCode = StatusCodes.Status400BadRequest };
        }

        if ((Password?.Length ?? 0) > AccountApi.MaxPasswordLength)
        {
            Errors.Add($"The password must be at most {AccountApi.MaxPasswordLength} characters.");
            return Page();
        }

        var (account, errors) = await registration.RegisterAsync(Name ?? "", Email ?? "", Password ?? "");
        if (account is null)
        {
            Errors.AddRange(errors!.SelectMany(e => e.Value));
            return Page();
        }

        await signIn.SignInAsync(account, isPersistent: false);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
    }
}
