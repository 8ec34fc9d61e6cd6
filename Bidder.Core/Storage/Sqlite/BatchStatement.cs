using Bidder.Domain;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Bidder.Core.Storage.Sqlite;

/// <summary>
/// A statement of the streamer's batch write, run once per row: prepared on the connection's own handle and bound
/// straight through SQLitePCL, inside the connection's transaction. A Microsoft.Data.Sqlite command allocates a binder
/// per parameter and a reader per execution: at a dozen parameters per bid that was a fifth of everything the
/// streamer allocated (BENCHMARKS.md, issue 16). Values are stored exactly as the command stored them (the same
/// types, keys and texts); a failure is the same <see cref="SqliteException"/>, with SQLite's code.
/// </summary>
internal sealed class BatchStatement : IDisposable
{
    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;

    public BatchStatement(SqliteConnection connection, string sql)
    {
        _database = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        Check(raw.sqlite3_prepare_v2(_database, sql, out _statement));
    }

    /// <summary>The index of a named parameter (<c>$name</c>) of the statement.</summary>
    public int Parameter(string name)
    {
        var index = raw.sqlite3_bind_parameter_index(_statement, name);
        return index > 0 ? index : throw new ArgumentException($"The statement has no parameter {name}.", nameof(name));
    }

    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(_statement, index, value));

    public void Bind(int index, long? value)
    {
        if (value is { } number)
        {
            Bind(index, number);
        }
        else
        {
            BindNull(index);
        }
    }

    /// <summary>An id as the store keys it (<see cref="SqliteRows.Key"/>: 16 bytes, big-endian), without an array per value.</summary>
    public void Bind(int index, Guid value)
    {
        Span<byte> key = stackalloc byte[16];
        SqliteRows.WriteKey(value, key);
        Check(raw.sqlite3_bind_blob(_statement, index, key));
    }

    public void Bind(int index, Guid? value)
    {
        if (value is { } id)
        {
            Bind(index, id);
        }
        else
        {
            BindNull(index);
        }
    }

    public void Bind(int index, string? value)
    {
        // UTF-16 as it is, which SQLite converts to the database's UTF-8 itself, without an array per value; an empty
        // text through the UTF-8 form, which is sure to bind an empty text (an empty span's pointer may be null, a NULL).
        Check(value switch
        {
            null => raw.sqlite3_bind_null(_statement, index),
            "" => raw.sqlite3_bind_text(_statement, index, value),
            _ => raw.sqlite3_bind_text16(_statement, index, value.AsSpan()),
        });
    }

    /// <summary>An amount as the store keeps it: cents, or where cents cannot hold it its exact text in a blob (<see cref="SqliteRows.StoredText"/>); none: NULL.</summary>
    public void BindStoredValue(int index, decimal? value)
    {
        if (value is not { } amount)
        {
            BindNull(index);
        }
        else if (Money.TryToCents(amount, out var cents))
        {
            Bind(index, cents);
        }
        else
        {
            Check(raw.sqlite3_bind_blob(_statement, index, SqliteRows.StoredText(amount)));
        }
    }

    public void BindNull(int index) => Check(raw.sqlite3_bind_null(_statement, index));

    /// <summary>Runs the statement with the values bound, and returns how many rows it changed; its values stay bound.</summary>
    public int Execute()
    {
        var result = raw.sqlite3_step(_statement);
        try
        {
            if (result != raw.SQLITE_DONE && result != raw.SQLITE_ROW)
            {
                SqliteException.ThrowExceptionForRC(result, _database);
            }

            return raw.sqlite3_changes(_database);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(result, _database);
        }
    }
}
