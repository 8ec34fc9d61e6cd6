namespace Bidder.Core.Storage;

/// <summary>
/// The identity service's ASP.NET Core Data Protection key ring (the keys its sign-in cookie and antiforgery tokens
/// are protected with), kept in the database so that a restart, or another replica, reads the same keys rather than
/// signing everyone out. Each entry is one XML element of the ring, stored as given (the service encrypts the keys
/// first) under its unique name, and never changed or removed: Data Protection retires a key by adding a newer
/// element. Made by <see cref="IAccountStore.InitializeAsync"/>, on the same adapter.
/// </summary>
public interface IKeyRingStore
{
    /// <summary>Every element of the ring, in the order of their names.</summary>
    Task<IReadOnlyList<string>> GetKeyRingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Adds an element under <paramref name="name"/>. A name stored already keeps the element it has: Data Protection
    /// names each element uniquely (<c>key-{id}</c>), so that is the same write made again (a retry, or a replica that
    /// made it too).
    /// </summary>
    Task AddToKeyRingAsync(string name, string element, CancellationToken cancellationToken);
}
