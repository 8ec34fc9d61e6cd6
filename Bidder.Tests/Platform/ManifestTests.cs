using System.Diagnostics;
using System.Text.Json;
using Bidder.Tests.Support;

namespace Bidder.Tests.Platform;

/// <summary>The Aspire manifest that azd deploys from, published the way the README says.</summary>
public class ManifestTests
{
    [Fact]
    public async Task The_published_manifest_describes_both_containers_and_both_projects_with_their_references()
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("bidder-manifest-").FullName, "aspire-manifest.json");
        try
        {
            await PublishManifestAsync(output);

            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken));
            var resources = manifest.RootElement.GetProperty("resources");
            // Developer tools are not deployed.
            Assert.False(resources.TryGetProperty("kafka-kafka-ui", out _));
            Assert.False(resources.TryGetProperty("mongo-mongoexpress", out _));

            var kafka = resources.GetProperty("kafka");
            Assert.Equal("container.v0", kafka.GetProperty("type").GetString());
            Assert.StartsWith("docker.io/confluentinc/confluent-local:", kafka.GetProperty("image").GetString());
            Assert.Equal(9092, kafka.GetProperty("bindings").GetProperty("tcp").GetProperty("targetPort").GetInt32());

            var mongo = resources.GetProperty("mongo");
            Assert.Equal("container.v0", mongo.GetProperty("type").GetString());
            Assert.StartsWith("docker.io/library/mongo:8", mongo.GetProperty("image").GetString());
            Assert.Equal("/data/db", mongo.GetProperty("volumes")[0].GetProperty("target").GetString());
            Assert.Equal("{mongo-password.value}", mongo.GetProperty("env").GetProperty("MONGO_INITDB_ROOT_PASSWORD").GetString());
            Assert.True(resources.GetProperty("mongo-password").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());

            Assert.Contains("/bidder?", resources.GetProperty("bidderdb").GetProperty("connectionString").GetString());

            foreach (var name in new[] { "api", "streamer" })
            {
                var project = resources.GetProperty(name);
                Assert.Equal("project.v0", project.GetProperty("type").GetString());
                var environment = project.GetProperty("env");
                Assert.Equal("{kafka.connectionString}", environment.GetProperty("ConnectionStrings__kafka").GetString());
                Assert.Equal("{bidderdb.connectionString}", environment.GetProperty("ConnectionStrings__bidderdb").GetString());
            }

            Assert.True(resources.GetProperty("api").GetProperty("bindings").GetProperty("http").GetProperty("external").GetBoolean());

            // The identity service is deployed with the others: its own database reference, a public endpoint, the
            // API trusting it, and its secrets (the first admin's password, the signing key) as secret parameters.
            var identity = resources.GetProperty("identity");
            Assert.Equal("project.v0", identity.GetProperty("type").GetString());
            Assert.True(identity.GetProperty("bindings").GetProperty("http").GetProperty("external").GetBoolean());
            var identityEnvironment = identity.GetProperty("env");
            Assert.Equal("{bidderdb.connectionString}", identityEnvironment.GetProperty("ConnectionStrings__bidderdb").GetString());
            Assert.Equal("{admin-password.value}", identityEnvironment.GetProperty("Bidder__Identity__AdminPassword").GetString());
            Assert.Equal("{identity-signing-key.value}", identityEnvironment.GetProperty("Bidder__Identity__SigningKey").GetString());
            Assert.True(resources.GetProperty("admin-password").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
            Assert.True(resources.GetProperty("identity-signing-key").GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
            Assert.Equal("{identity.bindings.http.url}", resources.GetProperty("api").GetProperty("env").GetProperty("Bidder__Identity__Authority").GetString());

            // The web app proves whom its anonymous reads and sign-in exchanges are for with a key the API and the
            // identity service hold too: one secret, which azd generates (as the AppHost does on a developer's machine).
            Assert.Equal("{web-caller-key.value}", resources.GetProperty("api").GetProperty("env").GetProperty("Bidder__RateLimits__WebCallerKey").GetString());
            Assert.Equal("{web-caller-key.value}", identityEnvironment.GetProperty("Bidder__RateLimits__WebCallerKey").GetString());
            Assert.Equal("{web-caller-key.value}", resources.GetProperty("web").GetProperty("env").GetProperty("Bidder__Web__CallerKey").GetString());
            var webCallerKey = resources.GetProperty("web-caller-key").GetProperty("inputs").GetProperty("value");
            Assert.True(webCallerKey.GetProperty("secret").GetBoolean());
            Assert.True(webCallerKey.GetProperty("default").GetProperty("generate").GetProperty("minLength").GetInt32() >= 32);

            // Behind Container Apps' ingress (which ends TLS and is every request's peer), each public service takes
            // the client's scheme and address from the forwarded headers (Aspire's default for projects; only the last
            // address, the one the ingress appended): the web app's sign-in callback needs the scheme, and the
            // per-address limits (sign-in attempts, anonymous reads) would otherwise count the ingress, one bucket for all.
            foreach (var name in new[] { "identity", "api", "web" })
            {
                Assert.True(resources.GetProperty(name).GetProperty("bindings").GetProperty("http").GetProperty("external").GetBoolean());
                Assert.Equal("true", resources.GetProperty(name).GetProperty("env").GetProperty("ASPNETCORE_FORWARDEDHEADERS_ENABLED").GetString());
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(output)!, recursive: true);
        }
    }

    /// <summary>
    /// Named external, the deployment uses a Kafka and a MongoDB of your own (managed services): no broker or database
    /// container, and the two connection strings are secrets azd asks for, which every service is given.
    /// </summary>
    [Fact]
    public async Task Published_external_the_manifest_asks_for_both_connection_strings_as_secrets_and_runs_no_container()
    {
        var output = Path.Combine(Directory.CreateTempSubdirectory("bidder-manifest-").FullName, "aspire-manifest.json");
        try
        {
            await PublishManifestAsync(output, mode: "external");

            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output, TestContext.Current.CancellationToken));
            var resources = manifest.RootElement.GetProperty("resources");
            Assert.DoesNotContain(resources.EnumerateObject(), r => r.Value.GetProperty("type").GetString()!.StartsWith("container", StringComparison.Ordinal));
            foreach (var name in new[] { "kafka", "bidderdb" })
            {
                var parameter = resources.GetProperty(name);
                Assert.Equal("parameter.v0", parameter.GetProperty("type").GetString());
                Assert.True(parameter.GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean());
            }

            foreach (var name in new[] { "api", "streamer" })
            {
                var environment = resources.GetProperty(name).GetProperty("env");
                Assert.Equal("{kafka.connectionString}", environment.GetProperty("ConnectionStrings__kafka").GetString());
                Assert.Equal("{bidderdb.connectionString}", environment.GetProperty("ConnectionStrings__bidderdb").GetString());
            }

            Assert.Equal("{bidderdb.connectionString}", resources.GetProperty("identity").GetProperty("env").GetProperty("ConnectionStrings__bidderdb").GetString());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(output)!, recursive: true);
        }
    }

    private static async Task PublishManifestAsync(string output, string mode = "auto")
    {
        var start = new ProcessStartInfo("dotnet",
        [
            "run", "--project", Path.Combine(Repository.Root, "Bidder.AppHost"), "--no-build", "-c", Repository.Configuration,
            "--", "--publisher", "manifest", "--output-path", output,
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        // The manifest must not depend on the machine having a container engine.
        start.Environment["Bidder__Infrastructure"] = mode;

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(HangGuard.Token);

        Assert.True(process.ExitCode == 0, $"manifest publish exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }
}
