using System.Security.Cryptography;
using System.Xml.Linq;
using Bidder.Core.Storage;
using Bidder.Core.Storage.Sqlite;
using Bidder.Identity.Accounts;
using Bidder.Identity.Extensions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Bidder.Tests.Identity;

/// <summary>
/// The identity service's Data Protection key ring, kept in its database and sealed under its signing key: what one
/// process protects (a sign-in cookie, an antiforgery token) another with the same database and key reads, as a
/// restarted container or a second replica must, and nobody reads it with the database alone.
/// </summary>
public sealed class KeyRingTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("bidder-key-ring-");

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    [Fact]
    public async Task What_one_process_protects_another_with_the_same_database_and_signing_key_reads()
    {
        var store = await StoreAsync();
        var signingKey = NewSigningKey();

        string cookie;
        using (var first = Service(store, signingKey))
        {
            cookie = Protector(first).Protect("ada's session");
        }

        using var restarted = Service(store, signingKey);
        Assert.Equal("ada's session", Protector(restarted).Unprotect(cookie));
        // One key in the ring, made by the first process and read by the second; its secret sealed, not in the database as text.
        var element = Assert.Single(await store.GetKeyRingAsync(Timeout));
        Assert.Contains("sealedKey", element, StringComparison.Ordinal);
        Assert.DoesNotContain("masterKey", element, StringComparison.Ordinal);
        // The decryptor is named in every stored key: renaming or moving it would leave the stored keys unreadable.
        Assert.Contains("decryptorType=\"Bidder.Identity.Accounts.KeyRingDecryptor, Bidder.Identity,", element, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Under_another_signing_key_the_ring_does_not_open_and_a_new_key_is_made()
    {
        var store = await StoreAsync();
        string cookie;
        using (var first = Service(store, NewSigningKey()))
        {
            cookie = Protector(first).Protect("ada's session");
        }

        using var rekeyed = Service(store, NewSigningKey());

        Assert.ThrowsAny<CryptographicException>(() => Protector(rekeyed).Unprotect(cookie));
        Assert.Equal("bob's session", Protector(rekeyed).Unprotect(Protector(rekeyed).Protect("bob's session")));
        Assert.Equal(2, (await store.GetKeyRingAsync(Timeout)).Count);
    }

    [Fact]
    public void A_sealed_key_opens_only_with_its_seal_and_unaltered()
    {
        var signingKey = NewSigningKey();
        var keys = IdentityKeys.From(new BidderIdentityOptions { SigningKey = signingKey })!;
        var seal = new KeyRingSeal(keys.Derive(IdentityKeys.KeyRingSeal));
        var key = XElement.Parse("""<key id="1"><masterKey><value>c2VjcmV0</value></masterKey></key>""");

        var sealedKey = seal.Seal(key);

        Assert.DoesNotContain("c2VjcmV0", sealedKey.ToString(), StringComparison.Ordinal);
        Assert.Equal(key.ToString(), seal.Open(sealedKey).ToString());
        // The same signing key, read again (another replica), derives the same seal; another purpose's key does not open it.
        var replica = IdentityKeys.From(new BidderIdentityOptions { SigningKey = signingKey })!;
        Assert.Equal(key.ToString(), new KeyRingSeal(replica.Derive(IdentityKeys.KeyRingSeal)).Open(sealedKey).ToString());
        Assert.ThrowsAny<CryptographicException>(() => new KeyRingSeal(keys.Derive(IdentityKeys.TokenEncryption)).Open(sealedKey));
        var value = sealedKey.Descendants().Single(e => e.Name.LocalName == "value");
        var bytes = Convert.FromBase64String(value.Value);
        bytes[^1] ^= 1;
        value.Value = Convert.ToBase64String(bytes);
        Assert.ThrowsAny<CryptographicException>(() => seal.Open(sealedKey));
    }

    private async Task<SqliteAccountStore> StoreAsync()
    {
        var connectionString = $"Data Source={Path.Combine(_folder.FullName, "identity.db")}";
        await new SqliteBidderStore(connectionString).InitializeAsync(Timeout);
        var store = new SqliteAccountStore(connectionString);
        await store.InitializeAsync(Timeout);
        return store;
    }

    private static string NewSigningKey()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    }

    /// <summary>The identity service's Data Protection as its start-up configures it, over <paramref name="store"/>.</summary>
    private static WebApplication Service(IKeyRingStore store, string signingKey)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddSingleton<IKeyRingStore>(store);
        builder.AddBidderDataProtection(IdentityKeys.From(new BidderIdentityOptions { SigningKey = signingKey }));
        return builder.Build();
    }

    private static IDataProtector Protector(WebApplication service) =>
        service.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }
}
