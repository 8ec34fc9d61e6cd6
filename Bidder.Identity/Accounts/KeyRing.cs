using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Bidder.Core.Storage;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Bidder.Identity.Accounts;

/// <summary>
/// Data Protection's key ring in the database (<see cref="IKeyRingStore"/>): the sign-in cookie and the forms'
/// antiforgery tokens stay readable across restarts and replicas, where the default ring (a folder in the process's
/// home) goes with the container. Data Protection reads the ring at start and about once a day, and adds a key every
/// 90 days: rare enough for its synchronous interface to wait on the store.
/// </summary>
internal sealed class DatabaseKeyRing(IKeyRingStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() =>
        [.. store.GetKeyRingAsync(CancellationToken.None).GetAwaiter().GetResult().Select(element => XElement.Parse(element))];

    // Data Protection names every element it stores (key-{id}, revocation-…); the interface lets a name be left out.
    public void StoreElement(XElement element, string? friendlyName) =>
        store.AddToKeyRingAsync(string.IsNullOrEmpty(friendlyName) ? $"element-{Guid.NewGuid():N}" : friendlyName,
            element.ToString(SaveOptions.DisableFormatting), CancellationToken.None).GetAwaiter().GetResult();
}

/// <summary>
/// Seals each key of the ring before it is stored (AES-256-GCM, with a key derived from the signing key): whoever can
/// read the database, or a backup of it, cannot take the keys that would let them forge anyone's sign-in cookie.
/// A ring sealed under another signing key does not open: its keys are skipped, and Data Protection makes a new one
/// (everyone signs in again, as after a change of the signing key every token is void too).
/// </summary>
internal sealed class KeyRingSeal(byte[] key)
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    private static readonly XName Sealed = XName.Get("sealedKey", "urn:bidder:identity:key-ring");

    // Binds a sealed value to this use: bytes sealed for another purpose with the same key would not open here.
    private static readonly byte[] Context = Encoding.UTF8.GetBytes("bidder-identity-key-ring/v1");

    public XElement Seal(XElement element)
    {
        var plain = Encoding.UTF8.GetBytes(element.ToString(SaveOptions.DisableFormatting));
        try
        {
            var value = new byte[NonceSize + plain.Length + TagSize];
            var nonce = value.AsSpan(0, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(key, TagSize);
            aes.Encrypt(nonce, plain, value.AsSpan(NonceSize, plain.Length), value.AsSpan(NonceSize + plain.Length), Context);
            return new XElement(Sealed,
                new XAttribute("version", 1),
                new XComment(" Sealed with AES-256-GCM under a key derived from the identity service's signing key. "),
                new XElement(Sealed.Namespace + "value", Convert.ToBase64String(value)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }

    public XElement Open(XElement element)
    {
        if (element.Name != Sealed || (string?)element.Attribute("version") != "1" || element.Element(Sealed.Namespace + "value") is not { } valueElement)
        {
            throw new CryptographicException($"The key ring element is not a {Sealed.LocalName} of version 1.");
        }

        var value = Convert.FromBase64String(valueElement.Value);
        if (value.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("The sealed key is too short.");
        }

        var plain = new byte[value.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(value.AsSpan(0, NonceSize), value.AsSpan(NonceSize, plain.Length), value.AsSpan(NonceSize + plain.Length), plain, Context);
            return XElement.Parse(Encoding.UTF8.GetString(plain));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }
}

/// <summary>Data Protection's side of <see cref="KeyRingSeal"/>: seals each new key.</summary>
internal sealed class KeyRingEncryptor(KeyRingSeal seal) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement) => new(seal.Seal(plaintextElement), typeof(KeyRingDecryptor));
}

/// <summary>
/// Opens a sealed key. Made by Data Protection from its type name, with the services to find the seal in. That name
/// (<c>Bidder.Identity.Accounts.KeyRingDecryptor, Bidder.Identity</c>) is stored with every key: renamed or moved,
/// the stored keys no longer open and everyone is signed out (KeyRingTests holds it).
/// </summary>
internal sealed class KeyRingDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement) => services.GetRequiredService<KeyRingSeal>().Open(encryptedElement);
}
