using Bidder.Core.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Bidder.Core.Http;

/// <summary>
/// Turns the failures a client can do something about into problem documents instead of a 500: the
/// database not answering (503, retry later) and a request Kestrel refused while reading it.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    private const string RetryAfterSeconds = "5";

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            StorageUnavailableException => (StatusCodes.Status503ServiceUnavailable, "Database unavailable",
                "The database did not answer; nothing was changed. Retry after the Retry-After delay."),
            // The operator's to fix (logged as an error); the client's request was fine.
            StorageConfigurationException => (StatusCodes.Status503ServiceUnavailable, "Database unavailable",
                "The database refused the service's configuration; nothing was changed. Retry later."),
            BadHttpRequestException bad => (bad.StatusCode, "Bad request", bad.Message),
            // A form past ASP.NET's form limits (key length, value length, key count).
            InvalidDataException => (StatusCodes.Status400BadRequest, "Bad request", "The form is larger than allowed."),
            _ => (0, "", ""),
        };

        if (status == 0)
        {
            return false;
        }

        if (exception is StorageConfigurationException)
        {
            LogMisconfigured(exception, exception.Message);
        }

        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            LogUnavailable(exception.Message);
            context.Response.Headers.RetryAfter = RetryAfterSeconds;
        }

        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The database refuses this service's configuration: {Reason}")]
    private partial void LogMisconfigured(Exception exception, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Answering 503: {Reason}")]
    private partial void LogUnavailable(string reason);
}
