using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Bidder.Core.Http;
using Bidder.Domain;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Bidder.Api.Requests;

/// <summary>Route and query values, taken as text and checked here so that a bad one gets a 400 naming it.</summary>
internal static class Queries
{
    public static bool TryParseId(string value, [NotNullWhen(false)] out ValidationProblem? error, out Guid id, string name = "id")
    {
        if (Guid.TryParseExact(value, "D", out id))
        {
            error = null;
            return true;
        }

        error = Problems.Invalid(name, $"'{name}' must be a UUID such as 0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f.");
        return false;
    }

    public static bool TryParsePage(PageQuery query, [NotNullWhen(true)] out PageRequest? page, [NotNullWhen(false)] out ValidationProblem? error)
    {
        var errors = new Dictionary<string, string[]>();
        var limit = PageRequest.DefaultLimit;
        if (query.Limit is not null
            && (!int.TryParse(query.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > PageRequest.MaxLimit))
        {
            errors["limit"] = [$"'limit' must be a whole number from 1 to {PageRequest.MaxLimit}."];
        }

        Cursor? after = null;
        if (query.Cursor is not null)
        {
            if (Cursor.TryDecode(query.Cursor, out var cursor))
            {
                after = cursor;
            }
            else
            {
                errors["cursor"] = ["'cursor' must be the next_cursor of a previous page."];
            }
        }

        page = errors.Count == 0 ? new PageRequest(limit, after) : null;
        error = errors.Count == 0 ? null : Problems.Invalid(errors);
        return page is not null;
    }

    public static bool TryParseStatus<TEnum>(string? value, out TEnum? status, [NotNullWhen(false)] out ValidationProblem? error)
        where TEnum : struct, Enum
    {
        status = null;
        error = null;
        if (value is null)
        {
            return true;
        }

        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (string.Equals(candidate.ToString(), value, StringComparison.OrdinalIgnoreCase))
            {
                status = candidate;
                return true;
            }
        }

        var choices = string.Join(" or ", Enum.GetNames<TEnum>().Select(n => n.ToLowerInvariant()));
        error = Problems.Invalid("status", $"'status' must be {choices}.");
        return false;
    }
}

/// <summary><c>?limit=</c> (1–100, default 20) and <c>?cursor=</c> (the <c>next_cursor</c> of the previous page).</summary>
public sealed record PageQuery([FromQuery(Name = "limit")] string? Limit, [FromQuery(Name = "cursor")] string? Cursor);
