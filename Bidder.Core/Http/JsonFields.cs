using System.Globalization;
using System.Text.Json;
using Bidder.Domain;

namespace Bidder.Core.Http;

/// <summary>
/// Reads the fields of a JSON object one rule at a time and collects every violation under the field's
/// name, so one answer lists all that is wrong. Unknown fields are ignored. Strings are taken exactly as
/// sent (never trimmed, never interpreted), but control characters and invalid UTF-16 are refused.
/// </summary>
public sealed class JsonFields(JsonElement root)
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool IsValid => _errors.Count == 0;

    public IDictionary<string, string[]> Errors => _errors;

    public string? RequiredText(string name, int maxLength) =>
        Field(name, out var value) ? Text(name, value, maxLength) : Missing<string>(name);

    public string? OptionalText(string name, int maxLength, string defaultValue) =>
        Field(name, out var value) && value.ValueKind != JsonValueKind.Null ? Text(name, value, maxLength) : defaultValue;

    public Guid? RequiredUuid(string name) => Field(name, out var value) ? Uuid(name, value) : Missing<Guid?>(name);

    /// <summary>Absent or null: null. Present: a UUID, else an error.</summary>
    public Guid? OptionalUuid(string name) =>
        Field(name, out var value) && value.ValueKind != JsonValueKind.Null ? Uuid(name, value) : null;

    private Guid? Uuid(string name, JsonElement value) =>
        value.ValueKind == JsonValueKind.String && Guid.TryParseExact(value.GetString(), "D", out var id)
            ? id
            : Fail<Guid?>(name, "must be a UUID such as 0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f.");

    /// <summary>A positive amount with at most 2 fraction digits, sent as a JSON number.</summary>
    public decimal? RequiredMoney(string name) => Field(name, out var value) ? Amount(name, value) : Missing<decimal?>(name);

    /// <summary>Absent or null: null. Present: an amount as <see cref="RequiredMoney"/> takes it, else an error.</summary>
    public decimal? OptionalMoney(string name) =>
        Field(name, out var value) && value.ValueKind != JsonValueKind.Null ? Amount(name, value) : null;

    /// <summary>Absent or null: <paramref name="defaultValue"/>. Present: a whole number from <paramref name="min"/> to <paramref name="max"/>, else an error.</summary>
    public int? OptionalWholeNumber(string name, int min, int max, int defaultValue)
    {
        if (!Field(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return defaultValue;
        }

        // Read as a decimal, so that 60.0 counts as the whole number it is and 1e100 is refused rather than overflowing.
        return value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number)
            && number == decimal.Truncate(number) && number >= min && number <= max
            ? (int)number
            : Fail<int?>(name, $"must be a whole number from {min} to {max}.");
    }

    private decimal? Amount(string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            return Fail<decimal?>(name, "must be a number, such as 12.50.");
        }

        if (!value.TryGetDecimal(out var amount) || amount > Money.MaxValue)
        {
            return Fail<decimal?>(name, $"must be at most {Money.MaxValue.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (amount <= 0)
        {
            return Fail<decimal?>(name, "must be greater than 0.");
        }

        return Money.HasAtMostTwoDecimals(amount)
            ? decimal.Round(amount, Money.FractionDigits)
            : Fail<decimal?>(name, "must have at most 2 decimal places.");
    }

    /// <summary>
    /// An ISO-8601 date and time; one without an offset is taken as UTC. Kept to the millisecond, the
    /// precision of every store, so that what is answered at creation is what is read back later.
    /// </summary>
    public DateTimeOffset? RequiredDateTime(string name)
    {
        if (!Field(name, out var value))
        {
            return Missing<DateTimeOffset?>(name);
        }

        if (value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(parsed.ToUnixTimeMilliseconds());
        }

        return Fail<DateTimeOffset?>(name, "must be an ISO-8601 date and time, such as 2030-01-31T18:00:00Z.");
    }

    /// <summary>A list of absolute http(s) URLs.</summary>
    public IReadOnlyList<string>? OptionalUrls(string name, int maxCount, int maxLength)
    {
        if (!Field(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return Fail<IReadOnlyList<string>>(name, "must be an array of URLs.");
        }

        if (value.GetArrayLength() > maxCount)
        {
            return Fail<IReadOnlyList<string>>(name, $"must hold at most {maxCount} URLs.");
        }

        var urls = new List<string>();
        var index = 0;
        foreach (var entry in value.EnumerateArray())
        {
            var field = $"{name}[{index++}]";
            var url = entry.ValueKind == JsonValueKind.String ? Text(field, entry, maxLength) : Fail<string>(field, "must be a URL string.");
            if (url is null)
            {
                continue;
            }

            if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                urls.Add(url);
            }
            else
            {
                Fail<string>(field, "must be an absolute http or https URL.");
            }
        }

        return urls;
    }

    public void Check(bool condition, string name, string message)
    {
        if (!condition)
        {
            Fail<object>(name, message);
        }
    }

    private bool Field(string name, out JsonElement value) => root.TryGetProperty(name, out value);

    private string? Text(string name, JsonElement value, int maxLength)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return Fail<string>(name, "must be a string.");
        }

        string text;
        try
        {
            text = value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return Fail<string>(name, "must be valid Unicode text.");
        }

        return TextRules.Problem(text, maxLength) is { } problem ? Fail<string>(name, problem) : text;
    }

    private T? Missing<T>(string name) => Fail<T>(name, "is required.");

    private T? Fail<T>(string name, string message)
    {
        _errors[name] = _errors.TryGetValue(name, out var existing) ? [.. existing, $"'{name}' {message}"] : [$"'{name}' {message}"];
        return default;
    }
}
