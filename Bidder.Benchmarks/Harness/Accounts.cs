using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// A signed-in Bidder user: the user id and the <c>Authorization</c> header value their requests carry. The
/// header is a string, not a client of its own, so every user's requests go through the one <see cref="BenchApp.Http"/>
/// and both sides of a ratio are measured with the same client.
/// </summary>
public sealed record SignedInUser(Guid Id, string Email, string Authorization);

/// <summary>
/// Signing in as Bidder's clients do, through the running identity service: register (POST /account/register)
/// and take an access token with the <c>bidder-cli</c> password grant. The API validates every token against the
/// identity service's published keys; nothing here bypasses that.
/// </summary>
public static class Accounts
{
    public const string AdminEmail = "admin@bidder.local";

    // One password for every benchmark account: the accounts live only as long as the run's database.
    private const string Password = "bench password 0123456789";

    // Registering and signing in hash a password each (PBKDF2): more at once only queue on the CPU.
    private const int Concurrency = 16;

    /// <summary>Registers <paramref name="count"/> users at the identity service and signs each in.</summary>
    public static async Task<List<SignedInUser>> RegisterManyAsync(BenchApp app, int count, string prefix)
    {
        var users = new SignedInUser[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
            users[i] = await RegisterAsync(app, $"{prefix} user {i}", ct));
        return [.. users];
    }

    /// <summary>Registers one user at the identity service and signs them in.</summary>
    public static async Task<SignedInUser> RegisterAsync(BenchApp app, string name, CancellationToken cancellationToken = default)
    {
        // A unique email per account: the benchmarks share one database, and runs of a benchmark reuse names.
        var email = $"bench-{Guid.NewGuid():N}@example.com";
        using var account = await Requests.SendAsync(app.IdentityHttp, () => new HttpRequestMessage(HttpMethod.Post, "/account/register")
        {
            Content = JsonContent.Create(new { name, email, password = Password }),
        }, cancellationToken);
        var id = account.RootElement.GetProperty("id").GetGuid();
        return new SignedInUser(id, email, await BearerAsync(app, email, Password, cancellationToken));
    }

    /// <summary>The run's administrator (the AppHost's <c>admin-password</c> parameter), signed in: creates users on the admin route.</summary>
    public static async Task<SignedInUser> AdminAsync(BenchApp app, CancellationToken cancellationToken = default)
    {
        var bearer = await BearerAsync(app, AdminEmail, app.AdminPassword, cancellationToken);
        return new SignedInUser(Subject(bearer), AdminEmail, bearer);
    }

    /// <summary>"Bearer {access token}" for the API (scope <c>bidder.api</c>) by the password grant.</summary>
    private static async Task<string> BearerAsync(BenchApp app, string email, string password, CancellationToken cancellationToken)
    {
        using var token = await Requests.SendAsync(app.IdentityHttp, () => new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password",
                ["client_id"] = "bidder-cli",
                ["username"] = email,
                ["password"] = password,
                ["scope"] = "bidder.api",
            }),
        }, cancellationToken);
        return $"Bearer {token.RootElement.GetProperty("access_token").GetString()}";
    }

    /// <summary>The user id a token names (its <c>sub</c>), read without validating it: the API does that.</summary>
    private static Guid Subject(string bearer)
    {
        var payload = bearer["Bearer ".Length..].Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload += new string('=', (4 - payload.Length % 4) % 4);
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
        return Guid.Parse(json.RootElement.GetProperty("sub").GetString()!);
    }
}

/// <summary>Seeding requests: a 503 (database busy) is retried as the service asks; any other failure stops the benchmark.</summary>
internal static class Requests
{
    public static async Task<JsonDocument> SendAsync(HttpClient http, Func<HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var message = request();
            using var response = await http.SendAsync(message, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            }

            if ((int)response.StatusCode != 503 || attempt == 5)
            {
                throw new InvalidOperationException(
                    $"{message.Method} {new Uri(http.BaseAddress!, message.RequestUri!)} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }

            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>A JSON POST, signed in as <paramref name="caller"/> when one is given.</summary>
    public static HttpRequestMessage Post(string path, string json, SignedInUser? caller)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (caller is not null)
        {
            message.Headers.TryAddWithoutValidation("Authorization", caller.Authorization);
        }

        return message;
    }
}
