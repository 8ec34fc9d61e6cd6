namespace Bidder.Streamer.Pipeline;

/// <summary>
/// Users the database has confirmed, so a batch asks it only about bidders it has not seen: a user, once
/// registered, is never removed, so a confirmed id stays true. Only existence is kept (an unknown id is asked
/// again next time: its user may register meanwhile). Bounded: past <see cref="Capacity"/> ids it starts over,
/// which costs one lookup per bidder, never a wrong answer. Used by the pipeline's one thread only.
/// </summary>
public sealed class KnownUsers
{
    public const int Capacity = 200_000;

    private readonly HashSet<Guid> _known = [];

    public bool Contains(Guid id) => _known.Contains(id);

    public void AddRange(IEnumerable<Guid> ids)
    {
        foreach (var id in ids)
        {
            if (_known.Count >= Capacity)
            {
                _known.Clear();
            }

            _known.Add(id);
        }
    }
}
