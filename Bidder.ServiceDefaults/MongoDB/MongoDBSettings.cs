namespace Bidder.ServiceDefaults.MongoDB;

/// <summary>
/// Settings of the MongoDB client, bound from <c>Aspire:MongoDB:Driver</c> (and its
/// <c>{connectionName}</c> subsection), as Aspire.MongoDB.Driver does.
/// </summary>
public sealed class MongoDBSettings
{
    public string? ConnectionString { get; set; }
    public bool DisableHealthChecks { get; set; }
    public int? HealthCheckTimeout { get; set; }
    public bool DisableTracing { get; set; }
}
