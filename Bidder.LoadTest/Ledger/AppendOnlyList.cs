namespace Bidder.LoadTest.Ledger;

/// <summary>
/// A list that many threads read at random while a few append: readers take no lock and never see a
/// half-added element (the array is published before the count that covers the new element).
/// </summary>
internal sealed class AppendOnlyList<T>
{
    private readonly Lock _gate = new();
    private T[] _items = new T[64];
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public T this[int index] => Volatile.Read(ref _items)[index];

    /// <returns>The new element's index.</returns>
    public int Add(T item)
    {
        lock (_gate)
        {
            var items = _items;
            if (_count == items.Length)
            {
                Array.Resize(ref items, items.Length * 2);
            }

            items[_count] = item;
            Volatile.Write(ref _items, items);
            Volatile.Write(ref _count, _count + 1);
            return _count - 1;
        }
    }
}
