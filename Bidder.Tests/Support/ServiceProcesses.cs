namespace Bidder.Tests.Support;

/// <summary>
/// The processes of one app's service, found in /proc: those whose command names the service's project
/// and whose environment points at this app's broker (other apps of the suite run the same services).
/// </summary>
internal static class ServiceProcesses
{
    public sealed record ServiceProcess(int Pid, string Executable, IReadOnlyList<string> Environment)
    {
        /// <summary>The service itself rather than its launcher (<c>dotnet run</c>).</summary>
        public bool IsService(string project) => Path.GetFileName(Executable) == project;
    }

    public static List<ServiceProcess> Find(string project, string bootstrapServers) =>
        FindWith(project, $"ConnectionStrings__kafka={bootstrapServers}");

    /// <summary>The processes of <paramref name="project"/> with <paramref name="marker"/> (<c>NAME=value</c>) in their environment.</summary>
    public static List<ServiceProcess> FindWith(string project, string marker)
    {
        return [.. Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0)
            .Select(pid => (Pid: pid, Command: Read(pid, "cmdline")))
            .Where(p => p.Command.Contains(project, StringComparison.Ordinal))
            .Select(p => new ServiceProcess(p.Pid, p.Command.Split('\0')[0], Read(p.Pid, "environ").Split('\0')))
            .Where(p => p.Environment.Contains(marker))];
    }

    /// <summary>SIGKILLs <paramref name="processes"/> (one app's service, none graceful) and returns once they are gone.</summary>
    public static void Kill(IReadOnlyList<ServiceProcess> processes)
    {
        Assert.NotEmpty(processes);
        foreach (var service in processes)
        {
            // The launcher (`dotnet run`) and the service are both listed; killing one can end the other first.
            try
            {
                using var process = System.Diagnostics.Process.GetProcessById(service.Pid);
                process.Kill();
                process.WaitForExit();
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
            }
        }
    }

    private static string Read(int pid, string file)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/{file}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
