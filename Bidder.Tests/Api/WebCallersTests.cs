using System.Net;
using Bidder.Domain;

namespace Bidder.Tests.Api;

/// <summary>The web app's proof of whom a request is for: only the key's holder can make one, for one caller, for a short while.</summary>
public sealed class WebCallersTests
{
    private const string Key = "a-key-of-thirty-two-characters-or-more";
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_proof_holds_for_its_caller_with_its_key_within_the_allowed_age()
    {
        var proof = WebCallers.Proof(Key, "address:203.0.113.9", Now);

        Assert.True(WebCallers.Verify(Key, "address:203.0.113.9", proof, Now));
        Assert.True(WebCallers.Verify(Key, "address:203.0.113.9", proof, Now + WebCallers.MaxAge));
        Assert.True(WebCallers.Verify(Key, "address:203.0.113.9", proof, Now - WebCallers.MaxAge));
    }

    [Fact]
    public void A_proof_does_not_hold_for_another_caller_key_or_time()
    {
        var proof = WebCallers.Proof(Key, "address:203.0.113.9", Now);

        Assert.False(WebCallers.Verify(Key, "address:203.0.113.10", proof, Now));
        Assert.False(WebCallers.Verify(Key, WebCallers.Web, proof, Now));
        Assert.False(WebCallers.Verify(Key + "x", "address:203.0.113.9", proof, Now));
        Assert.False(WebCallers.Verify(Key, "address:203.0.113.9", proof, Now + WebCallers.MaxAge + TimeSpan.FromSeconds(1)));
        Assert.False(WebCallers.Verify(Key, "address:203.0.113.9", proof, Now - WebCallers.MaxAge - TimeSpan.FromSeconds(1)));

        // The time is part of what is signed: moving it to now does not make an old proof new.
        var old = WebCallers.Proof(Key, "address:203.0.113.9", Now - TimeSpan.FromHours(1));
        var moved = $"{Now.ToUnixTimeSeconds()}{old[old.IndexOf('.')..]}";
        Assert.False(WebCallers.Verify(Key, "address:203.0.113.9", moved, Now));
    }

    // Each with the current time, so that only the signature's part can refuse it.
    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("{now}")]
    [InlineData("{now}.")]
    [InlineData("-{now}.AAAA")]
    [InlineData("+{now}.AAAA")]
    [InlineData(" {now}.AAAA")]
    [InlineData("99999999999999999999.AAAA")]
    [InlineData("9223372036854775807.AAAA")]
    [InlineData("{now}.!")]
    [InlineData("{now}.A")]
    [InlineData("{now}.not base64url!")]
    [InlineData("{now}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("{now}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("{now}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void A_malformed_proof_holds_for_nobody_and_never_throws(string proof) =>
        Assert.False(WebCallers.Verify(Key, "address:203.0.113.9", proof.Replace("{now}", Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)), Now));

    [Fact]
    public void A_visitor_is_named_as_the_api_names_an_address_whatever_the_socket_family_and_ipv6_by_its_64()
    {
        Assert.Equal("address:203.0.113.9", WebCallers.Visitor(IPAddress.Parse("203.0.113.9")));
        Assert.Equal("address:203.0.113.9", WebCallers.Visitor(IPAddress.Parse("::ffff:203.0.113.9")));
        // IPv6 by the /64 a subscriber is given: its other addresses share the bucket.
        Assert.Equal("address:2001:db8:1:2::/64", WebCallers.Visitor(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.Equal("address:2001:db8:1:2::/64", WebCallers.Visitor(IPAddress.Parse("2001:db8:1:2:ffff:ee:dd:cc")));
        Assert.NotEqual(WebCallers.Visitor(IPAddress.Parse("2001:db8:1:3::1")), WebCallers.Visitor(IPAddress.Parse("2001:db8:1:2::1")));
    }
}
