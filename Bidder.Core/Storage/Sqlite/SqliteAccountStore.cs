using System.Data.Common;
using System.Text.Json;
using Bidder.Domain;
using Microsoft.Data.Sqlite;

namespace Bidder.Core.Storage.Sqlite;

/// <summary>
/// Accounts in the embedded store's SQLite file, beside the users table (<see cref="SqliteBidderStore"/>
/// creates it, and runs first). Ids as big-endian 16-byte blobs and dates as Unix milliseconds, as
/// <see cref="SqliteRows"/> stores them; roles as a JSON array. The identity service's key ring and redeemed tokens
/// in tables of their own.
/// </summary>
public sealed class SqliteAccountStore(string connectionString) : IAccountStore, IKeyRingStore, ITokenRedemptions
{
    // Kept here rather than in SqliteSchema: only a service that signs people in needs the table.
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS accounts (
            user_id BLOB PRIMARY KEY,
            email TEXT NOT NULL,
            normalized_email TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            security_stamp TEXT NOT NULL,
            access_failed_count INTEGER NOT NULL,
            lockout_end INTEGER NULL,
            roles TEXT NOT NULL,
            created_date INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS key_ring (
            name TEXT PRIMARY KEY,
            element TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS redeemed_tokens (
            token TEXT PRIMARY KEY,
            expires INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS redeemed_tokens_by_expiry ON redeemed_tokens (expires);
        """;

    private const string Columns = "user_id, email, normalized_email, password_hash, security_stamp, access_failed_count, lockout_end, roles, created_date";

    // SQLITE_CONSTRAINT_UNIQUE. Among the accounts and users tables only normalized_email is UNIQUE; a
    // clashing id breaks a primary key instead (SQLITE_CONSTRAINT_PRIMARYKEY, 1555), which is not an e-mail taken.
    private const int UniqueConstraintFailed = 2067;

    private readonly string _connectionString = SqliteConnections.Prepare(connectionString);

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await SqliteConnections.ExecuteAsync(connection, Schema, cancellationToken);
            return true;
        }, cancellationToken);

    public Task<bool> CreateAccountAsync(Account account, User user, CancellationToken cancellationToken)
    {
        NewAccount.Check(account, user);
        return RunAsync(async connection =>
        {
            // One transaction, so the account never exists without its user, nor a user for a create that lost.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            await using (var insert = connection.CreateCommand())
            {
                insert.CommandText = $"""
                    INSERT INTO accounts ({Columns})
                    VALUES ($id, $email, $normalized_email, $password_hash, $security_stamp, $access_failed_count, $lockout_end, $roles, $created)
                    """;
                BindMutable(insert, account);
                insert.Parameters.AddWithValue("$created", SqliteRows.Millis(account.CreatedDate));
                try
                {
                    await insert.ExecuteNonQueryAsync(cancellationToken);
                }
                catch (SqliteException ex) when (ex.SqliteExtendedErrorCode == UniqueConstraintFailed)
                {
                    await transaction.RollbackAsync(cancellationToken);
                    return false;
                }
            }

            // The same row SqliteBidderStore.CreateUserAsync writes.
            await using (var insert = connection.CreateCommand())
            {
                insert.CommandText = "INSERT INTO users (id, name, bids, created_date) VALUES ($id, $name, $bids, $created)";
                insert.Parameters.AddWithValue("$id", SqliteRows.Key(user.Id));
                insert.Parameters.AddWithValue("$name", user.Name);
                insert.Parameters.AddWithValue("$bids", user.Bids);
                insert.Parameters.AddWithValue("$created", SqliteRows.Millis(user.CreatedDate));
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return true;
        }, cancellationToken);
    }

    public Task<Account?> FindAccountByIdAsync(Guid userId, CancellationToken cancellationToken) =>
        FindAsync("user_id = $key", SqliteRows.Key(userId), cancellationToken);

    public Task<Account?> FindAccountByEmailAsync(string normalizedEmail, CancellationToken cancellationToken) =>
        FindAsync("normalized_email = $key", normalizedEmail, cancellationToken);

    public Task<bool> UpdateAccountAsync(Account account, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var update = connection.CreateCommand();
            update.CommandText = """
                UPDATE accounts SET email = $email, normalized_email = $normalized_email, password_hash = $password_hash,
                    security_stamp = $security_stamp, access_failed_count = $access_failed_count, lockout_end = $lockout_end, roles = $roles
                WHERE user_id = $id
                """;
            BindMutable(update, account);
            try
            {
                // Rows matched, whether or not a value changed: an update to the same values still found its account.
                return await update.ExecuteNonQueryAsync(cancellationToken) == 1;
            }
            catch (SqliteException ex) when (ex.SqliteExtendedErrorCode == UniqueConstraintFailed)
            {
                return false;
            }
        }, cancellationToken);

    public Task<IReadOnlyList<string>> GetKeyRingAsync(CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<string>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT element FROM key_ring ORDER BY name";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var elements = new List<string>();
            while (await reader.ReadAsync(cancellationToken))
            {
                elements.Add(reader.GetString(0));
            }

            return elements;
        }, cancellationToken);

    public Task AddToKeyRingAsync(string name, string element, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO key_ring (name, element) VALUES ($name, $element) ON CONFLICT (name) DO NOTHING";
            insert.Parameters.AddWithValue("$name", name);
            insert.Parameters.AddWithValue("$element", element);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task<bool> RedeemAsync(string token, DateTimeOffset expires, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            // The primary key decides, atomically: of two redemptions at once one inserts, the other changes no row.
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO redeemed_tokens (token, expires) VALUES ($token, $expires) ON CONFLICT (token) DO NOTHING";
            insert.Parameters.AddWithValue("$token", token);
            insert.Parameters.AddWithValue("$expires", SqliteRows.Millis(expires));
            return await insert.ExecuteNonQueryAsync(cancellationToken) == 1;
        }, cancellationToken);

    public Task<long> ForgetExpiredRedemptionsAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync<long>(async connection =>
        {
            await using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM redeemed_tokens WHERE expires < $now";
            delete.Parameters.AddWithValue("$now", SqliteRows.Millis(now));
            return await delete.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>The id and every field an update may change.</summary>
    private static void BindMutable(SqliteCommand command, Account account)
    {
        command.Parameters.AddWithValue("$id", SqliteRows.Key(account.UserId));
        command.Parameters.AddWithValue("$email", account.Email);
        command.Parameters.AddWithValue("$normalized_email", account.NormalizedEmail);
        command.Parameters.AddWithValue("$password_hash", account.PasswordHash);
        command.Parameters.AddWithValue("$security_stamp", account.SecurityStamp);
        command.Parameters.AddWithValue("$access_failed_count", account.AccessFailedCount);
        command.Parameters.AddWithValue("$lockout_end", account.LockoutEnd is { } end ? SqliteRows.Millis(end) : DBNull.Value);
        command.Parameters.AddWithValue("$roles", JsonSerializer.Serialize(account.Roles, SqliteJson.Default.IReadOnlyListString));
    }

    private Task<Account?> FindAsync(string condition, object key, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {Columns} FROM accounts WHERE {condition}";
            command.Parameters.AddWithValue("$key", key);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadAccount(reader) : null;
        }, cancellationToken);

    private static Account ReadAccount(DbDataReader r) => new(
        SqliteRows.Guid(r, 0),
        r.GetString(1),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        r.GetInt32(5),
        r.IsDBNull(6) ? null : SqliteRows.FromMillis(r.GetInt64(6)),
        JsonSerializer.Deserialize(r.GetString(7), SqliteJson.Default.IReadOnlyListString) ?? [],
        SqliteRows.FromMillis(r.GetInt64(8)));

    private Task<T> RunAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken) =>
        SqliteConnections.RunAsync(_connectionString, work, cancellationToken);
}
