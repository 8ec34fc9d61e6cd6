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

    private static async Task PublishManifestAsync(string output)
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
        start.Environment["Bidder__Infrastructure"] = "auto";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(HangGuard.Token);

        Assert.True(process.ExitCode == 0, $"manifest publish exited with {process.ExitCode}:\n{await stdout}\n{await stderr}");
    }
}
