using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bidder.Core.Http;

/// <summary>
/// Reads a JSON request body with the limits every route shares: a JSON content type (415 otherwise),
/// at most 64 KiB (413), well-formed JSON no deeper than 32 levels whose root is an object (400).
/// Fields are then read by <see cref="JsonFields"/>, which names each field and rule it refuses.
/// </summary>
public static class JsonBody
{
    public const int MaxBytes = 64 * 1024;
    private const int MaxDepth = 32;

    public static async Task<(JsonDocument? Document, ProblemHttpResult? Error)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasJsonContentType())
        {
            return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"The body must be JSON (Content-Type: application/json), not '{request.ContentType ?? "none"}'."));
        }

        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxBytes + 1);
        try
        {
            var length = 0;
            int read;
            while (length <= MaxBytes && (read = await request.Body.ReadAsync(buffer.AsMemory(length, MaxBytes + 1 - length), cancellationToken)) > 0)
            {
                length += read;
            }

            if (length > MaxBytes)
            {
                return (null, TooLarge());
            }

            var document = JsonDocument.Parse(buffer.AsMemory(0, length), new JsonDocumentOptions { MaxDepth = MaxDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                return (null, Problems.Create(StatusCodes.Status400BadRequest, "Invalid body", "The body must be a JSON object."));
            }

            return (document, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, "Malformed JSON",
                $"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).{(ex.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase) ? $" It nests deeper than {MaxDepth} levels." : "")}"));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ProblemHttpResult TooLarge() =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "Body too large", $"The body must be at most {MaxBytes / 1024} KiB.");
}
