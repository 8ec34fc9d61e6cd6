using System.Buffers.Binary;

namespace Bidder.Domain;

/// <summary>
/// UUIDv7 ids that rise strictly in the order this process makes them. <see cref="Guid.CreateVersion7(DateTimeOffset)"/>
/// fills everything after the millisecond with random bits, so two records made in one millisecond may sort
/// either way round, and "newest first" listings would not be the order of creation. Here, an id that would
/// not sort after the previous one takes the previous one's random part plus one (RFC 9562, section 6.2,
/// method 2: the random bits as a counter), so ids stay unguessable across milliseconds and ordered within one.
/// </summary>
public static class TimeOrderedIds
{
    private const ulong RandBMask = (1UL << 62) - 1;
    private const ulong RandALimit = 1UL << 12;

    private static readonly Lock Gate = new();
    private static (long Millis, ulong RandA, ulong RandB) _last;

    public static Guid Next(DateTimeOffset at)
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.CreateVersion7(at).TryWriteBytes(bytes, bigEndian: true, out _);
        var high = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        var low = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        var next = ((long)(high >> 16), high & (RandALimit - 1), low & RandBMask);

        lock (Gate)
        {
            if (next.CompareTo(_last) <= 0)
            {
                var (millis, randA, randB) = _last;
                randB = (randB + 1) & RandBMask;
                if (randB == 0 && ++randA == RandALimit)
                {
                    (millis, randA) = (millis + 1, 0);
                }

                next = (millis, randA, randB);
            }

            _last = next;
        }

        BinaryPrimitives.WriteUInt64BigEndian(bytes, ((ulong)next.Item1 << 16) | 0x7000UL | next.Item2);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], 0x8000_0000_0000_0000UL | next.Item3);
        return new Guid(bytes, bigEndian: true);
    }
}
