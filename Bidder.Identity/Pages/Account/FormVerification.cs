using Microsoft.AspNetCore.Antiforgery;

namespace Bidder.Identity.Pages.Account;

/// <summary>
/// The antiforgery check of the sign-in and sign-up forms, made by the page rather than by MVC's filter (the pages
/// carry <c>[IgnoreAntiforgeryToken]</c>): a post that fails it is refused as before, nothing is done, but the person
/// gets the form again with a sentence and a fresh token instead of a bare 400, and the log says why it failed.
/// </summary>
internal static partial class FormVerification
{
    public const string Refused =
        "This form could not be verified (it was open too long, or came from another page): nothing was done. Please send it again.";

    public static async Task<bool> IsValidAsync(HttpContext context, IAntiforgery antiforgery, ILogger logger)
    {
        try
        {
            await antiforgery.ValidateRequestAsync(context);
            return true;
        }
        catch (AntiforgeryValidationException ex)
        {
            LogRefused(logger, context.Request.Path, ex.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A form post to {Path} failed its antiforgery check and was refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, string reason);
}
