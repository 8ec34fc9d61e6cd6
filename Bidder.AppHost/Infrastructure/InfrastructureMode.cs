using System.ComponentModel;
using System.Diagnostics;
using Aspire.Hosting;
using Microsoft.Extensions.Configuration;

namespace Bidder.AppHost.Infrastructure;

/// <summary>Where Kafka and the database come from; the setting <c>Bidder:Infrastructure</c>.</summary>
public enum InfrastructureMode
{
    /// <summary><see cref="Containers"/> when a container engine answers, else <see cref="Embedded"/>.</summary>
    Auto,

    /// <summary>Kafka (confluent-local) and MongoDB (mongo:8) containers.</summary>
    Containers,

    /// <summary>No containers: librdkafka's mock cluster in the AppHost and an SQLite file.</summary>
    Embedded,

    /// <summary>An existing Kafka cluster and MongoDB deployment, from <c>ConnectionStrings:kafka|bidderdb</c>.</summary>
    External,
}

public sealed record InfrastructureChoice(InfrastructureMode Mode, string Reason)
{
    public const string SettingName = "Bidder:Infrastructure";
    private static readonly TimeSpan EngineProbeTimeout = TimeSpan.FromSeconds(5);

    public static InfrastructureChoice Resolve(IDistributedApplicationBuilder builder)
    {
        var setting = builder.Configuration[SettingName];
        if (!Enum.TryParse<InfrastructureMode>(setting ?? nameof(InfrastructureMode.Auto), ignoreCase: true, out var mode)
            || !Enum.IsDefined(mode))
        {
            throw new InvalidOperationException(
                $"'{SettingName}' is '{setting}': use auto, containers, embedded or external.");
        }

        if (builder.ExecutionContext.IsPublishMode)
        {
            // What azd deploys: the containers form, or, named, a Kafka and a MongoDB of your own (managed services,
            // whose connection strings azd asks for as secrets). The embedded form runs only on a developer's machine.
            return mode == InfrastructureMode.External
                ? new(InfrastructureMode.External, $"{SettingName} is '{setting}': the deployment uses your Kafka and MongoDB")
                : new(InfrastructureMode.Containers, "publishing describes the containers form unless Bidder:Infrastructure is external");
        }

        if (mode != InfrastructureMode.Auto)
        {
            return new(mode, $"{SettingName} is '{setting}'");
        }

        var runtime = builder.Configuration["ASPIRE_CONTAINER_RUNTIME"] ?? "docker";
        return ContainerEngineAnswers(runtime, out var why)
            ? new(InfrastructureMode.Containers, $"auto: the {runtime} container engine answered ({why})")
            : new(InfrastructureMode.Embedded, $"auto: no container engine answered ({runtime}: {why})");
    }

    private static bool ContainerEngineAnswers(string runtime, out string why)
    {
        try
        {
            // Docker's info has the server's version at .ServerVersion, Podman's at .Version.Version (an unknown field
            // is a template error: a running Podman would read as no engine at all).
            var version = runtime.EndsWith("podman", StringComparison.OrdinalIgnoreCase) ? "{{.Version.Version}}" : "{{.ServerVersion}}";
            using var process = Process.Start(new ProcessStartInfo(runtime, ["info", "--format", version])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }) ?? throw new Win32Exception($"{runtime} did not start");

            var output = process.StandardOutput.ReadToEndAsync();
            process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(EngineProbeTimeout))
            {
                process.Kill(entireProcessTree: true);
                why = $"no answer within {EngineProbeTimeout.TotalSeconds:0} s";
                return false;
            }

            why = process.ExitCode == 0 ? $"server {output.Result.Trim()}" : $"'{runtime} info' exited with {process.ExitCode}";
            return process.ExitCode == 0;
        }
        catch (Win32Exception)
        {
            why = $"'{runtime}' is not installed";
            return false;
        }
    }
}
