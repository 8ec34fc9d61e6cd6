using Bidder.Core.Storage;
using Bidder.Identity.Accounts;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;

namespace Bidder.Identity.Extensions;

internal static class DataProtectionSetup
{
    /// <summary>
    /// Where the keys of the sign-in cookie and the antiforgery tokens live. With a signing key (every deployment):
    /// in the database, sealed under a key derived from it (<see cref="DatabaseKeyRing"/>, <see cref="KeyRingSeal"/>),
    /// so restarts and replicas share them. Without one (Development and embedded mode on one machine, whose token keys
    /// are generated per run anyway): Data Protection's default, a folder in the user's profile.
    /// </summary>
    public static void AddBidderDataProtection(this WebApplicationBuilder builder, IdentityKeys? keys)
    {
        // Named, so that replicas (and a restart in another folder) are one application to Data Protection.
        builder.Services.AddDataProtection().SetApplicationName("bidder-identity");
        if (keys is null)
        {
            return;
        }

        builder.Services.AddSingleton(new KeyRingSeal(keys.Derive(IdentityKeys.KeyRingSeal)));
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IKeyRingStore, KeyRingSeal>((options, store, seal) =>
        {
            options.XmlRepository = new DatabaseKeyRing(store);
            options.XmlEncryptor = new KeyRingEncryptor(seal);
        });
    }
}
