using System.Diagnostics;
using System.Net;
using Bidder.LoadTest.Api;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Options;
using Bidder.LoadTest.Running;
using Bidder.LoadTest.Scenarios;

namespace Bidder.LoadTest.Checking;

/// <summary>
/// After the load: waits until every bid the API took (202) is processed, then compares what the API shows
/// with what follows from the bids sent. The tool created every item and user it checks and is the only one
/// bidding on or for them, so each can be predicted exactly:
/// <list type="bullet">
/// <item>every taken bid is processed exactly once: it appears once in its user's bid list, and once in its item's accepted
/// list when accepted; no list holds a bid this run did not send; the items' and users' <c>bids</c> counts match;</item>
/// <item>an item's <c>winning_bid</c> is the highest valid bid sent to it (valid: from the starting price to 100000, made before
/// the end, not by its seller), and <c>winning_user_id</c> one of the users who sent that value;</item>
/// <item>accepted bids rise strictly in processing order: listed highest first, their values are distinct;</item>
/// <item>each verdict fits the rules that do not depend on order (value_too_high, own_item, auction_closed, below_init_bid),
/// and a too_low bid is never above the final winning bid, since winning bids only rise.</item>
/// </list>
/// The reads are a client's: items publicly, a bid and a user's bid list with that user's token (they are theirs
/// alone to see), a user with its own token too. A 429 is waited out, it says nothing about the end state.
/// </summary>
internal sealed class EndStateChecker(BidderClient api, SignIns signIns, RunLedger ledger, LoadTestOptions options)
{
    private const int PageSize = 100;
    private const int ReadAttempts = 3;

    private readonly Discrepancies _discrepancies = new();
    private long _requests;

    public async Task<CheckResult> RunAsync(IProgress<string> status, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var bids = ledger.Bids;
        var outcomes = new BidOutcomes(bids.Count);

        status.Report($"Waiting for {bids.Count:N0} bids to be processed");
        var settle = await new Settler(api, signIns, ledger, options.CheckConcurrency).WaitAsync(bids, outcomes, options.SettleTimeout,
            new Reporter<(int Processed, int Total)>(p => status.Report($"Waiting for bids to be processed: {p.Processed:N0} of {p.Total:N0}")),
            cancellationToken);
        _requests += settle.Requests;
        var unprocessed = 0;
        for (var i = 0; i < bids.Count; i++)
        {
            if (outcomes.States[i] == BidState.Pending)
            {
                _discrepancies.Add(DiscrepancyKind.Unprocessed, ++unprocessed > Discrepancies.MaxExamplesPerKind ? null
                    : $"bid {bids[i].Id} on item {ledger.Items[bids[i].Item].Id}: GET /events/{{id}} still 404 after {TimeText.Format(options.SettleTimeout)}");
            }
        }

        if (bids.Count == 0 && options.Mix.WeightOf(RequestKind.Bid) > 0)
        {
            _discrepancies.Add(DiscrepancyKind.Unprocessed, "no bid was taken (202) during the run: nothing to check");
        }

        var byItem = BidGroups.Of(bids, ledger.Items.Count, static b => b.Item);
        var byUser = BidGroups.Of(bids, ledger.Users.Count, static b => b.User);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.CheckConcurrency, CancellationToken = cancellationToken };

        status.Report($"Checking {ledger.Items.Count:N0} items");
        var (itemsChecked, itemsSkipped) = await CheckEachAsync(ledger.Items.Count, byItem, ledger.IsUncertainItem,
            (item, mine, token) => CheckItemAsync(ledger.Items[item], mine, bids, outcomes, token));

        status.Report($"Checking {ledger.Users.Count:N0} users");
        var (usersChecked, usersSkipped) = await CheckEachAsync(ledger.Users.Count, byUser, ledger.IsUncertainUser,
            (user, mine, token) => CheckUserAsync(ledger.Users[user], mine, bids, outcomes, token));

        // Items and users alike: skipped while one of their bids is still pending or uncertain, else checked, in parallel.
        async Task<(int Checked, int Skipped)> CheckEachAsync(
            int count, BidGroups groups, Func<int, bool> isUncertain, Func<int, ReadOnlyMemory<int>, CancellationToken, Task> check)
        {
            int done = 0, skipped = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (index, token) =>
            {
                var mine = groups[index];
                if (isUncertain(index) || Any(mine, i => outcomes.States[i] == BidState.Pending))
                {
                    Interlocked.Increment(ref skipped);
                    return;
                }

                await check(index, mine, token);
                Interlocked.Increment(ref done);
            });
            return (done, skipped);
        }

        var rejected = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long accepted = 0;
        for (var i = 0; i < bids.Count; i++)
        {
            if (outcomes.States[i] == BidState.Accepted)
            {
                accepted++;
            }
            else if (outcomes.States[i] == BidState.Rejected)
            {
                var reason = Reasons.Name(outcomes.Reasons[i]);
                rejected[reason] = rejected.GetValueOrDefault(reason) + 1;
            }
        }

        return new CheckResult(
            _discrepancies.Total == 0, Stopwatch.GetElapsedTime(started).TotalSeconds, Interlocked.Read(ref _requests),
            bids.Count, bids.Count - settle.Unprocessed, settle.Unprocessed, accepted, rejected, ledger.UncertainBids,
            itemsChecked, itemsSkipped, usersChecked, usersSkipped,
            _discrepancies.Total, _discrepancies.Counts(), _discrepancies.Examples());
    }

    private async Task CheckItemAsync(ItemRecord item, ReadOnlyMemory<int> mine, IReadOnlyList<SentBid> bids, BidOutcomes outcomes, CancellationToken cancellationToken)
    {
        long expectedHigh = 0;
        var highUsers = new HashSet<Guid>();
        var accepted = 0;
        var byId = new Dictionary<Guid, int>(mine.Length);
        foreach (var index in mine.Span)
        {
            var bid = bids[index];
            byId[bid.Id] = index;
            if (bid.Cents <= Money.MaxBidCents && bid.User != item.Seller && bid.BidDateTicks < item.EndTicks && bid.Cents >= item.InitCents)
            {
                if (bid.Cents > expectedHigh)
                {
                    expectedHigh = bid.Cents;
                    highUsers.Clear();
                }

                if (bid.Cents == expectedHigh)
                {
                    highUsers.Add(ledger.Users[bid.User].Id);
                }
            }

            accepted += outcomes.States[index] == BidState.Accepted ? 1 : 0;
            CheckVerdict(bid, index, item, outcomes);
        }

        var response = await ReadAsync(token => api.GetItemAsync(item.Id, token), cancellationToken);
        if (response is not { Status: (int)HttpStatusCode.OK, Body: { } shown })
        {
            _discrepancies.Add(DiscrepancyKind.Unreadable, $"GET /items/{item.Id} answered {ApiStatus.Describe(response.Status)}");
            return;
        }

        var winning = Money.ToCents(shown.WinningBid);
        if (winning != expectedHigh)
        {
            _discrepancies.Add(DiscrepancyKind.WinningBid,
                $"item {item.Id}: winning_bid {Money.Format(winning)}, but the highest valid bid sent to it was {Money.Format(expectedHigh)}");
        }

        if (expectedHigh == 0 ? shown.WinningUserId is not null : shown.WinningUserId is not { } winner || !highUsers.Contains(winner))
        {
            _discrepancies.Add(DiscrepancyKind.WinningUser,
                $"item {item.Id}: winning_user_id {shown.WinningUserId?.ToString() ?? "null"} is not one of the users who bid {Money.Format(expectedHigh)}");
        }

        if (shown.Bids != accepted)
        {
            _discrepancies.Add(DiscrepancyKind.ItemBidCount, $"item {item.Id}: bids {shown.Bids}, but {accepted} of the bids sent to it were accepted");
        }

        foreach (var index in mine.Span)
        {
            if (outcomes.States[index] == BidState.Rejected && outcomes.Reasons[index] == Reasons.TooLow && bids[index].Cents > winning)
            {
                _discrepancies.Add(DiscrepancyKind.WrongVerdict,
                    $"bid {bids[index].Id}: too_low at {Money.Format(bids[index].Cents)}, above item {item.Id}'s final winning bid {Money.Format(winning)}");
            }
        }

        var listing = await ReadAllPagesAsync($"/items/{item.Id}/bids", null, mine.Length, cancellationToken);
        if (listing is null)
        {
            return;
        }

        var seen = new HashSet<Guid>();
        var previous = long.MaxValue;
        foreach (var listed in listing)
        {
            var cents = Money.ToCents(listed.Value);
            if (cents >= previous)
            {
                _discrepancies.Add(DiscrepancyKind.NotIncreasing,
                    $"item {item.Id}: accepted bids of {Money.Format(previous)} and {Money.Format(cents)}; each accepted bid must beat the one before");
            }

            previous = cents;
            if (!byId.TryGetValue(listed.Id, out var index))
            {
                _discrepancies.Add(DiscrepancyKind.UnknownBid, $"item {item.Id}: lists accepted bid {listed.Id}, which this run did not send to it");
            }
            else if (!seen.Add(listed.Id))
            {
                _discrepancies.Add(DiscrepancyKind.DuplicateBid, $"item {item.Id}: lists bid {listed.Id} more than once");
            }
            else if (outcomes.States[index] != BidState.Accepted)
            {
                _discrepancies.Add(DiscrepancyKind.StatusMismatch,
                    $"bid {listed.Id}: in item {item.Id}'s accepted bids, but GET /events/{{id}} says {outcomes.Describe(index)}");
            }
        }

        foreach (var index in mine.Span)
        {
            if (outcomes.States[index] == BidState.Accepted && !seen.Contains(bids[index].Id))
            {
                _discrepancies.Add(DiscrepancyKind.MissingBid, $"bid {bids[index].Id}: accepted, but missing from item {item.Id}'s accepted bids");
            }
        }

        if (listing.Count > 0 && listing[0].UserId != shown.WinningUserId)
        {
            _discrepancies.Add(DiscrepancyKind.WinningUser,
                $"item {item.Id}: the highest accepted bid is user {listing[0].UserId}'s, but winning_user_id is {shown.WinningUserId?.ToString() ?? "null"}");
        }
    }

    private async Task CheckUserAsync(UserRecord record, ReadOnlyMemory<int> mine, IReadOnlyList<SentBid> bids, BidOutcomes outcomes, CancellationToken cancellationToken)
    {
        var user = record.Id;
        var byId = new Dictionary<Guid, int>(mine.Length);
        var accepted = 0;
        foreach (var index in mine.Span)
        {
            byId[bids[index].Id] = index;
            accepted += outcomes.States[index] == BidState.Accepted ? 1 : 0;
        }

        var response = await ReadAsync(token => api.GetUserAsync(user, signIns.AuthorizationFor(record), token), cancellationToken);
        if (response is not { Status: (int)HttpStatusCode.OK, Body: { } shown })
        {
            _discrepancies.Add(DiscrepancyKind.Unreadable, $"GET /users/{user} answered {ApiStatus.Describe(response.Status)}");
            return;
        }

        if (shown.Bids != accepted)
        {
            _discrepancies.Add(DiscrepancyKind.UserBidCount, $"user {user}: bids {shown.Bids}, but {accepted} of the bids sent for it were accepted");
        }

        var listing = await ReadAllPagesAsync($"/users/{user}/bids", record, mine.Length, cancellationToken);
        if (listing is null)
        {
            return;
        }

        var seen = new HashSet<Guid>();
        foreach (var listed in listing)
        {
            if (!byId.TryGetValue(listed.Id, out var index))
            {
                _discrepancies.Add(DiscrepancyKind.UnknownBid, $"user {user}: lists bid {listed.Id}, which this run did not send for it");
            }
            else if (!seen.Add(listed.Id))
            {
                _discrepancies.Add(DiscrepancyKind.DuplicateBid, $"user {user}: lists bid {listed.Id} more than once");
            }
            else if (BidOutcomes.StateOf(listed.Status) != outcomes.States[index])
            {
                _discrepancies.Add(DiscrepancyKind.StatusMismatch,
                    $"bid {listed.Id}: {listed.Status} in user {user}'s bids, but GET /events/{{id}} says {outcomes.Describe(index)}");
            }
        }

        foreach (var index in mine.Span)
        {
            if (!seen.Contains(bids[index].Id))
            {
                _discrepancies.Add(DiscrepancyKind.MissingBid, $"bid {bids[index].Id}: processed, but missing from user {user}'s bids");
            }
        }
    }

    /// <summary>The verdicts that follow from the bid and its item alone, whatever the order of processing.</summary>
    private void CheckVerdict(in SentBid bid, int index, ItemRecord item, BidOutcomes outcomes)
    {
        // The rules in the streamer's order. unknown_user and unknown_item never apply: the tool bids only with users
        // and on items it created. own_item does, when the bidder drawn is the item's seller.
        var required = bid.Cents > Money.MaxBidCents ? Reasons.ValueTooHigh
            : bid.User == item.Seller ? Reasons.OwnItem
            : bid.BidDateTicks >= item.EndTicks ? Reasons.AuctionClosed
            : bid.Cents < item.InitCents ? Reasons.BelowInitBid
            : Reasons.None;
        var state = outcomes.States[index];
        var fits = required == Reasons.None
            ? state == BidState.Accepted || (state == BidState.Rejected && outcomes.Reasons[index] == Reasons.TooLow)
            : state == BidState.Rejected && outcomes.Reasons[index] == required;
        if (!fits)
        {
            var expected = required == Reasons.None ? "accepted or too_low" : $"rejected ({Reasons.Name(required)})";
            _discrepancies.Add(DiscrepancyKind.WrongVerdict,
                $"bid {bid.Id} of {Money.Format(bid.Cents)} on item {item.Id} (starting price {Money.Format(item.InitCents)}): {outcomes.Describe(index)}, expected {expected}");
        }
    }

    /// <summary>Every page of a bid list; null (and a discrepancy) when a page cannot be read or the pages do not end.</summary>
    /// <param name="reader">Whose list it is (a user's is theirs alone to see), or null for an item's public one.</param>
    private async Task<List<BidDto>?> ReadAllPagesAsync(string path, UserRecord? reader, int expected, CancellationToken cancellationToken)
    {
        var all = new List<BidDto>(expected);
        var maxPages = expected / PageSize + 10;
        string? cursor = null;
        for (var page = 0; page < maxPages; page++)
        {
            var url = cursor is null ? $"{path}?limit={PageSize}" : $"{path}?limit={PageSize}&cursor={Uri.EscapeDataString(cursor)}";
            var response = await ReadAsync(
                token => api.GetBidPageAsync(url, reader is null ? null : signIns.AuthorizationFor(reader), token), cancellationToken);
            if (response is not { Status: (int)HttpStatusCode.OK, Body: { } body })
            {
                _discrepancies.Add(DiscrepancyKind.Unreadable, $"GET {url} answered {ApiStatus.Describe(response.Status)}");
                return null;
            }

            all.AddRange(body.Items);
            cursor = body.NextCursor;
            if (cursor is null)
            {
                return all;
            }
        }

        _discrepancies.Add(DiscrepancyKind.Unreadable, $"GET {path}: still a next_cursor after {maxPages} pages for {expected} bids");
        return null;
    }

    /// <summary>
    /// A read, retried a couple of times when it gets no answer or a 5xx, so that one hiccup is not reported as a wrong
    /// end state, and after each 429 (anonymous reads are limited per client address) as long as Retry-After says.
    /// </summary>
    private async Task<ApiResponse<T>> ReadAsync<T>(Func<CancellationToken, Task<ApiResponse<T>>> read, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await RateLimitRetry.SendAsync(read, cancellationToken, _ => Interlocked.Increment(ref _requests));
            if ((response.Answered && response.Status < 500) || attempt == ReadAttempts)
            {
                return response;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500 * attempt), cancellationToken);
        }
    }

    private static bool Any(ReadOnlyMemory<int> indexes, Func<int, bool> predicate)
    {
        foreach (var index in indexes.Span)
        {
            if (predicate(index))
            {
                return true;
            }
        }

        return false;
    }
}
