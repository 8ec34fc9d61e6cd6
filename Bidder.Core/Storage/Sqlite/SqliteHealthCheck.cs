using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bidder.Core.Storage.Sqlite;

/// <summary>Healthy when the database file opens and answers a query.</summary>
public sealed class SqliteHealthCheck(string connectionString) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy(connection.DataSource);
        }
        catch (SqliteException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"SQLite did not answer: {ex.Message}", ex);
        }
    }
}
