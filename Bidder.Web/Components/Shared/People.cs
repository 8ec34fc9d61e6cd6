using System.Security.Claims;

namespace Bidder.Web.Components.Shared;

public static class People
{
    /// <summary>The signed-in person's Bidder user id: the token's subject.</summary>
    public static Guid? UserId(this ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirst("sub")?.Value, out var id) ? id : null;

    /// <summary>How a page names a bidder: "you", or a short stable tag (user names are not public).</summary>
    public static string Bidder(Guid userId, Guid? me) => userId == me ? "You" : $"Bidder {userId.ToString("N")[^6..]}";
}
