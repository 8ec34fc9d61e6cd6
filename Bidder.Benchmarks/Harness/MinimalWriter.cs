using Bidder.Core.Storage;
using Bidder.Core.Storage.Sqlite;
using Bidder.Domain;
using Microsoft.Data.Sqlite;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// The rows the SQLite adapter writes for a batch (its <c>RecordBatchAsync</c>), written by the least code that can
/// write them: one connection for the whole feed, three statements prepared once, one transaction per batch.
/// Per batch: an insert per bid into <c>events</c> (every column the adapter writes), one <c>users</c> update per
/// user with accepted bids, one conditional <c>items</c> update per changed item (the bidding columns the adapter
/// writes). What it leaves out is what the adapter adds around the same writes: a pooled connection opened and its
/// pragmas set per batch, its commands made (their statements prepared) per batch, the insert's <c>ON CONFLICT</c>
/// clause and the per-row "was it new" count (no bid comes twice here), and the second items statement (the end
/// date and the close, which this feed never changes: it looks the item up and writes nothing). The file, its schema
/// and indexes are the adapter's.
/// </summary>
public sealed class MinimalWriter : IAsyncDisposable
{
    // SqliteRows' status codes (the partial index on accepted bids filters on them).
    private const int Accepted = 1;
    private const int Rejected = 2;

    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insert;
    private readonly SqliteCommand _user;
    private readonly SqliteCommand _item;

    private MinimalWriter(SqliteConnection connection)
    {
        _connection = connection;
        _insert = Prepare("""
            INSERT INTO events (id, item_id, user_id, value, client, bid_date, created_date, status, reason, detail, max_value, item_version)
            VALUES ($id, $item, $user, $value, $client, $bid_date, $created, $status, $reason, $detail, $max_value, $item_version)
            """, "$id", "$item", "$user", "$value", "$client", "$bid_date", "$created", "$status", "$reason", "$detail", "$max_value", "$item_version");
        _user = Prepare("UPDATE users SET bids = bids + $count WHERE id = $id", "$id", "$count");
        _item = Prepare("""
            UPDATE items SET winning_bid = $winning, winning_user_id = $winner, winning_bid_id = $bid, leader_max = $leader_max, bids = $bids, version = $version
            WHERE id = $id AND version < $version
            """, "$id", "$winning", "$winner", "$bid", "$leader_max", "$bids", "$version");
    }

    /// <summary>Opens the file with the adapter's durability and cache settings (SqliteConnections), so only the code differs.</summary>
    public static async Task<MinimalWriter> OpenAsync(string path)
    {
        var connection = new SqliteConnection(StoreWorkload.ConnectionString(path));
        await connection.OpenAsync();
        await using (var pragmas = connection.CreateCommand())
        {
            pragmas.CommandText = $"PRAGMA synchronous=FULL; PRAGMA cache_size=-{SqliteConnections.BatchCacheKibibytes}; "
                + $"PRAGMA wal_autocheckpoint={SqliteConnections.WalPagesBetweenCheckpoints};";
            await pragmas.ExecuteNonQueryAsync();
        }

        return new MinimalWriter(connection);
    }

    public void Write(ProcessedBatch batch)
    {
        using var transaction = _connection.BeginTransaction();
        _insert.Transaction = _user.Transaction = _item.Transaction = transaction;
        var acceptedByUser = new Dictionary<Guid, int>();
        var p = _insert.Parameters;
        foreach (var bid in batch.Bids)
        {
            p[0].Value = bid.Id.ToByteArray(bigEndian: true);
            p[1].Value = bid.ItemId.ToByteArray(bigEndian: true);
            p[2].Value = bid.UserId.ToByteArray(bigEndian: true);
            // The feed's values all fit in cents (the adapter keeps a larger, always rejected, one as text).
            p[3].Value = Money.ToCents(bid.Value);
            p[4].Value = bid.Client;
            p[5].Value = bid.BidDate.ToUnixTimeMilliseconds();
            p[6].Value = bid.CreatedDate.ToUnixTimeMilliseconds();
            p[7].Value = bid.Status == BidStatus.Accepted ? Accepted : Rejected;
            p[8].Value = (object?)bid.Reason ?? DBNull.Value;
            p[9].Value = (object?)bid.Detail ?? DBNull.Value;
            p[10].Value = bid.MaxValue is { } max ? (object)Money.ToCents(max) : DBNull.Value;
            p[11].Value = (object?)bid.ItemVersion ?? DBNull.Value;
            _insert.ExecuteNonQuery();
            if (bid.Status == BidStatus.Accepted)
            {
                acceptedByUser[bid.UserId] = acceptedByUser.GetValueOrDefault(bid.UserId) + 1;
            }
        }

        foreach (var (userId, count) in acceptedByUser)
        {
            _user.Parameters[0].Value = userId.ToByteArray(bigEndian: true);
            _user.Parameters[1].Value = count;
            _user.ExecuteNonQuery();
        }

        p = _item.Parameters;
        foreach (var (itemId, state, _) in batch.Items)
        {
            p[0].Value = itemId.ToByteArray(bigEndian: true);
            p[1].Value = Money.ToCents(state.WinningBid);
            p[2].Value = state.WinningUserId is { } winner ? (object)winner.ToByteArray(bigEndian: true) : DBNull.Value;
            p[3].Value = state.WinningBidId is { } winning ? (object)winning.ToByteArray(bigEndian: true) : DBNull.Value;
            p[4].Value = state.LeaderMax is { } leaderMax ? (object)Money.ToCents(leaderMax) : DBNull.Value;
            p[5].Value = state.Bids;
            p[6].Value = state.Version;
            _item.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    public async ValueTask DisposeAsync()
    {
        await _insert.DisposeAsync();
        await _user.DisposeAsync();
        await _item.DisposeAsync();
        await _connection.DisposeAsync();
        SqliteConnection.ClearAllPools();
    }

    private SqliteCommand Prepare(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }
}
