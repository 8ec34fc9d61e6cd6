using System.Globalization;
using Bidder.LoadTest.Running;

namespace Bidder.LoadTest.Scenarios;

/// <summary>The weighted choice of what each request does, parsed from <c>--mix bid=70,read-item=10,...</c>.</summary>
internal sealed class ScenarioMix
{
    /// <summary>
    /// Mostly bidding, as in the original system's locust file, with the reads a bidding page makes. Registering is
    /// rare: with its sign-in it makes two requests to the identity service, which limits them per client address
    /// (10/s by default) and sees all of the tool's from one; at 1 % the default rate stays within that.
    /// </summary>
    public const string Default = "bid=72,read-item=10,read-bids=10,list-items=3,read-user=2,register=1,create-item=2";

    private readonly int[] _weights;
    private readonly int[] _cumulative;

    private ScenarioMix(int[] weights)
    {
        _weights = weights;
        _cumulative = new int[weights.Length];
        var sum = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            sum += weights[i];
            _cumulative[i] = sum;
        }
    }

    public int Total => _cumulative[^1];

    public int WeightOf(RequestKind kind) => _weights[(int)kind];

    public RequestKind Pick(ref FastRandom random)
    {
        var ticket = random.Next(Total);
        var index = 0;
        while (_cumulative[index] <= ticket)
        {
            index++;
        }

        return (RequestKind)index;
    }

    /// <summary>The mix as given, normalized: <c>bid=70,read-item=10</c>, only the kinds with a weight.</summary>
    public override string ToString() =>
        string.Join(",", RequestKinds.All.Where(k => WeightOf(k) > 0).Select(k => $"{k.Name()}={WeightOf(k)}"));

    /// <summary>Kinds left out of the text get no requests: the text is the whole mix.</summary>
    public static bool TryParse(string text, out ScenarioMix mix, out string error)
    {
        mix = null!;
        var weights = new int[RequestKinds.All.Length];
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = entry.Split('=', 2, StringSplitOptions.TrimEntries);
            if (pair.Length != 2 || !RequestKinds.TryParse(pair[0], out var kind))
            {
                error = $"--mix: '{entry}' is not NAME=WEIGHT with NAME one of {RequestKinds.AllNames}.";
                return false;
            }

            if (!int.TryParse(pair[1], NumberStyles.None, CultureInfo.InvariantCulture, out var weight) || weight > 1_000_000)
            {
                error = $"--mix: the weight of '{pair[0]}' must be a whole number from 0 to 1000000, not '{pair[1]}'.";
                return false;
            }

            weights[(int)kind] = weight;
        }

        if (weights.Sum() == 0)
        {
            error = $"--mix: give at least one positive weight, e.g. --mix {Default}.";
            return false;
        }

        mix = new ScenarioMix(weights);
        error = "";
        return true;
    }
}
