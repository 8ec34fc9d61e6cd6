using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Bidder.Domain;

namespace Bidder.Core.Storage.Sqlite;

/// <summary>
/// Records to SQLite rows and back: 16-byte big-endian UUIDs (so the primary key orders UUIDv7 ids by
/// time), money in cents and dates in Unix milliseconds (so every comparison is an integer one). Kept apart
/// from the store, as the MongoDB adapter keeps its documents.
/// </summary>
internal static class SqliteRows
{
    /// <summary>A bid's status as stored (an integer: the partial index on accepted bids filters on it).</summary>
    public const int Accepted = 1;
    public const int Rejected = 2;

    public const string UserColumns = "id, name, bids, created_date";
    public const string ItemColumns =
        "id, name, init_bid, winning_bid, winning_user_id, winning_bid_id, currency, pictures, bids, created_date, bidding_enddate, seller_id, "
        + "bid_increment, reserve_price, soft_close_seconds, leader_max, version, closed_at, result";

    public const string BidColumns = "id, item_id, user_id, value, client, bid_date, created_date, status, reason, detail, max_value, item_version";

    internal static User ReadUser(DbDataReader r) => new(Guid(r, 0), r.GetString(1), r.GetInt64(2), FromMillis(r.GetInt64(3)));

    internal static Item ReadItem(DbDataReader r) => new(
        Guid(r, 0),
        r.GetString(1),
        Money.FromCents(r.GetInt64(2)),
        Money.FromCents(r.GetInt64(3)),
        r.IsDBNull(4) ? null : Guid(r, 4),
        r.IsDBNull(5) ? null : Guid(r, 5),
        r.GetString(6),
        JsonSerializer.Deserialize(r.GetString(7), SqliteJson.Default.IReadOnlyListString) ?? [],
        r.GetInt64(8),
        FromMillis(r.GetInt64(9)),
        FromMillis(r.GetInt64(10)),
        r.IsDBNull(11) ? null : Guid(r, 11),
        Money.FromCents(r.GetInt64(12)),
        r.IsDBNull(13) ? null : Money.FromCents(r.GetInt64(13)),
        r.GetInt32(14),
        r.IsDBNull(15) ? null : Money.FromCents(r.GetInt64(15)),
        r.GetInt64(16),
        r.IsDBNull(17) ? null : FromMillis(r.GetInt64(17)),
        r.IsDBNull(18) ? null : r.GetString(18));

    internal static Bid ReadBid(DbDataReader r) => new(
        Guid(r, 0),
        Guid(r, 1),
        Guid(r, 2),
        ReadValue(r, 3),
        r.GetString(4),
        FromMillis(r.GetInt64(5)),
        FromMillis(r.GetInt64(6)),
        r.GetInt64(7) == Accepted ? BidStatus.Accepted : BidStatus.Rejected,
        r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9),
        r.IsDBNull(10) ? null : ReadValue(r, 10),
        r.IsDBNull(11) ? null : r.GetInt64(11));

    /// <summary>
    /// An amount beyond what cents can hold (only ever a rejected bid's), as the store keeps it: its exact decimal
    /// text in a blob (amounts that fit are cents, as an integer: <see cref="BatchStatement.BindStoredValue"/>). A blob,
    /// because SQLite would turn numeric-looking text in an INTEGER column into a lossy REAL; a blob is stored as it
    /// is. Listings sort accepted bids only, which always fit.
    /// </summary>
    internal static byte[] StoredText(decimal value) => Encoding.UTF8.GetBytes(value.ToString(CultureInfo.InvariantCulture));

    internal static decimal ReadValue(DbDataReader reader, int ordinal) =>
        reader.GetValue(ordinal) is byte[] text
            ? decimal.Parse(Encoding.UTF8.GetString(text), NumberStyles.Number, CultureInfo.InvariantCulture)
            : Money.FromCents(reader.GetInt64(ordinal));

    internal static byte[] Key(Guid id)
    {
        var key = new byte[16];
        WriteKey(id, key);
        return key;
    }

    /// <summary>An id as the store keys it: its 16 bytes, big-endian, written where the caller says (a batch binds them without an array each).</summary>
    internal static void WriteKey(Guid id, Span<byte> key) => id.TryWriteBytes(key, bigEndian: true, out _);

    internal static object NullableKey(Guid? id) => id is { } value ? Key(value) : DBNull.Value;

    /// <summary>An item's optional amount (a reserve, the leader's maximum), which the API and the rules keep within cents; none: NULL.</summary>
    internal static object NullableCents(decimal? value) => value is { } amount ? Money.ToCents(amount) : DBNull.Value;

    internal static Guid Guid(DbDataReader reader, int ordinal) => new((byte[])reader.GetValue(ordinal), bigEndian: true);

    internal static long Millis(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    internal static object NullableMillis(DateTimeOffset? value) => value is { } date ? Millis(date) : DBNull.Value;

    internal static DateTimeOffset FromMillis(long value) => DateTimeOffset.FromUnixTimeMilliseconds(value);
}
