using System.Security.Cryptography;
using System.Text;

namespace Bidder.Identity.Extensions;

/// <summary>
/// The identity service's one secret, the RSA key that signs its tokens (<see cref="BidderIdentityOptions.SigningKey"/>),
/// and the symmetric keys derived from it for its other uses (HKDF, one purpose each), so that a deployment manages a
/// single key and no key is used twice.
/// </summary>
internal sealed class IdentityKeys(RSA signing)
{
    /// <summary>Encrypts authorization codes and refresh tokens (never read outside this service).</summary>
    public const string TokenEncryption = "bidder-identity-encryption";

    /// <summary>Seals the Data Protection key ring kept in the database (<see cref="Accounts.KeyRingSeal"/>).</summary>
    public const string KeyRingSeal = "bidder-identity-key-ring";

    public RSA Signing { get; } = signing;

    /// <summary>The configured key, or null where none is set (Development and embedded mode generate theirs).</summary>
    public static IdentityKeys? From(BidderIdentityOptions identity)
    {
        if (string.IsNullOrWhiteSpace(identity.SigningKey))
        {
            return null;
        }

        var rsa = RSA.Create();
        rsa.ImportFromPem(identity.SigningKey);
        return new IdentityKeys(rsa);
    }

    /// <summary>A 256-bit key for <paramref name="purpose"/>, the same for the same signing key on every replica.</summary>
    public byte[] Derive(string purpose)
    {
        var secret = Signing.ExportPkcs8PrivateKey();
        try
        {
            return HKDF.DeriveKey(HashAlgorithmName.SHA256, secret, 32, info: Encoding.UTF8.GetBytes(purpose));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }
}
