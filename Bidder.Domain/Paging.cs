using System.Buffers.Binary;
using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;

namespace Bidder.Domain;

/// <summary>One page of a listing, and the cursor of the next page (null on the last page).</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>
/// A keyset position: the sort value of the last record of a page (when the order has one besides the
/// id) and that record's id. Encoded as an opaque base64url token; a token that does not decode is
/// refused, and a decodable but made-up one is just a position, so it can do no harm.
/// </summary>
public readonly record struct Cursor(long SortValue, Guid Id)
{
    private const byte Version = 1;
    private const int Length = 1 + 8 + 16;

    public string Encode()
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], SortValue);
        Id.TryWriteBytes(bytes[9..], bigEndian: true, out _);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryDecode(string? token, [NotNullWhen(true)] out Cursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(token) || token.Length > 64 || !Base64Url.IsValid(token, out var decodedLength) || decodedLength != Length)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Length];
        if (Base64Url.DecodeFromChars(token, bytes) != Length || bytes[0] != Version)
        {
            return false;
        }

        cursor = new Cursor(BinaryPrimitives.ReadInt64BigEndian(bytes[1..]), new Guid(bytes[9..Length], bigEndian: true));
        return true;
    }
}

/// <summary>A page request: at most <see cref="Limit"/> records after <see cref="After"/> (from the start when null).</summary>
public sealed record PageRequest(int Limit, Cursor? After)
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
}
