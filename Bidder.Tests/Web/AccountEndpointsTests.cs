using Bidder.Web.Account;

namespace Bidder.Tests.Web;

/// <summary>Where the web app sends a browser after signing in or out: only to its own pages.</summary>
public sealed class AccountEndpointsTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/items/42?x=1", "/items/42?x=1")]
    [InlineData(null, "/")]
    [InlineData("", "/")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example/", "/")]
    [InlineData("/\t/evil.example/", "/")]
    [InlineData("/\n/evil.example/", "/")]
    [InlineData("items", "/")]
    public void Only_a_local_path_is_a_return_address(string? returnUrl, string expected) =>
        Assert.Equal(expected, AccountEndpoints.LocalUrl(returnUrl));
}
