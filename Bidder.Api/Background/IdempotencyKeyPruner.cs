using Bidder.Domain;
using Bidder.Core.Storage;

namespace Bidder.Api.Background;

/// <summary>Forgets idempotency keys past their lifetime (<see cref="IdempotencyRecord.Lifetime"/>).</summary>
public sealed class IdempotencyKeyPruner(IIdempotencyKeys store, TimeProvider time, ILogger<IdempotencyKeyPruner> logger) : HourlyPruner(time, logger)
{
    protected override string What => "idempotency key(s) past their lifetime";

    protected override Task<long> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        store.DeleteIdempotencyKeysAsync(now - IdempotencyRecord.Lifetime, cancellationToken);
}
