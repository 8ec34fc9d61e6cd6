using System.Text.Json.Serialization;
using Bidder.Domain;

namespace Bidder.Core.Storage.Sqlite;

/// <summary>The few values the SQLite store keeps as JSON text.</summary>
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(PostedBid))]
internal sealed partial class SqliteJson : JsonSerializerContext;
