using Microsoft.JSInterop;

namespace Bidder.Web.Components.Shared;

/// <summary>
/// The browser's time zone, asked once per page session, so times show in the person's own time and the end they
/// pick on the sell page means their local time, daylight saving included (by the zone's rules, not today's
/// offset). UTC until the browser has answered, or when the server does not know the zone.
/// </summary>
public sealed class BrowserClock(IJSRuntime js)
{
    private TimeZoneInfo? _zone;

    /// <summary>Call from OnAfterRenderAsync (the browser is not reachable before the first render); true when the zone is not UTC.</summary>
    public async Task<bool> EnsureZoneAsync()
    {
        if (_zone is not null)
        {
            return false;
        }

        try
        {
            var name = await js.InvokeAsync<string>("bidder.timeZone");
            _zone = TimeZoneInfo.TryFindSystemTimeZoneById(name, out var zone) ? zone : TimeZoneInfo.Utc;
        }
        catch (JSException)
        {
            _zone = TimeZoneInfo.Utc;
        }

        return _zone != TimeZoneInfo.Utc;
    }

    private TimeZoneInfo Zone => _zone ?? TimeZoneInfo.Utc;

    public DateTime ToLocal(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), Zone);

    public string Format(DateTime utc) => ToLocal(utc).ToString("ddd d MMM yyyy, HH:mm", System.Globalization.CultureInfo.InvariantCulture);

    public DateTimeOffset FromLocal(DateTime local)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, Zone.GetUtcOffset(local));
    }
}
