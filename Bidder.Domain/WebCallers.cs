using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Bidder.Domain;

/// <summary>
/// How the web app tells the API and the identity service whom a request without a token is for, so that their
/// per-address limits count each visitor rather than the web app's one address for everyone: the web app names the
/// caller (the visitor's address, or itself for the reads it shares between pages) and proves it with a key only
/// it and those services hold (an HMAC of the time and the caller, never the key itself). A request whose proof does
/// not check out is counted by its own address, as any other. One declaration, read by every service.
/// </summary>
public static class WebCallers
{
    /// <summary><c>address:&lt;ip&gt;</c> for a visitor (<see cref="Visitor"/>), <see cref="Web"/> for the web app's own reads.</summary>
    public const string CallerHeader = "Bidder-Caller";

    /// <summary><c>&lt;unix seconds&gt;.&lt;base64url HMAC-SHA256(key, seconds + "\n" + caller)&gt;</c>.</summary>
    public const string ProofHeader = "Bidder-Caller-Proof";

    /// <summary>The web app itself: the item reads it shares between its pages, and its live stream.</summary>
    public const string Web = "web";

    /// <summary>The shortest key any service accepts (the AppHost generates one this long).</summary>
    public const int MinKeyLength = 32;

    /// <summary>How far a proof's time may be from the checking service's clock, either way: a copied header is worth this long, no more.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(2);

    private const string AddressPrefix = "address:";

    /// <summary>Unset (no proofs made or taken), or long enough.</summary>
    public static bool IsUsableKey(string? key) => string.IsNullOrEmpty(key) || key.Length >= MinKeyLength;

    /// <summary>
    /// The caller name of a client at <paramref name="address"/>: the services' own partition key for an address. An IPv6
    /// address by its /64, the block a network hands one subscriber: by the whole address, one machine could take a fresh
    /// bucket for every request.
    /// </summary>
    public static string Visitor(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return $"{AddressPrefix}{address.MapToIPv4()}";
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return $"{AddressPrefix}{address}";
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return $"{AddressPrefix}{new IPAddress(bytes)}/64";
    }

    /// <summary>Whether <paramref name="caller"/> is a name the web app gives (a visitor's address, or itself).</summary>
    public static bool IsCaller(string caller) => caller == Web || caller.StartsWith(AddressPrefix, StringComparison.Ordinal);

    public static string Proof(string key, string caller, DateTimeOffset now)
    {
        var seconds = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"{seconds}.{Base64Url.EncodeToString(Mac(key, seconds, caller))}";
    }

    /// <summary>
    /// Whether <paramref name="proof"/> was made with <paramref name="key"/> for <paramref name="caller"/> within
    /// <see cref="MaxAge"/> of <paramref name="now"/>. Anyone can send the header: false for anything else, never a throw.
    /// </summary>
    public static bool Verify(string key, string caller, string proof, DateTimeOffset now)
    {
        var dot = proof.IndexOf('.');
        if (dot <= 0 || !long.TryParse(proof.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds()
            || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > MaxAge)
        {
            return false;
        }

        Span<byte> given = stackalloc byte[HMACSHA256.HashSizeInBytes];
        return Base64Url.DecodeFromChars(proof.AsSpan(dot + 1), given, out _, out var written) == OperationStatus.Done
            && written == given.Length
            && CryptographicOperations.FixedTimeEquals(given, Mac(key, proof[..dot], caller));
    }

    private static byte[] Mac(string key, string seconds, string caller) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes($"{seconds}\n{caller}"));
}
