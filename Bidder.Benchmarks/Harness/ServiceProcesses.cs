namespace Bidder.Benchmarks.Harness;

/// <summary>
/// The service processes the AppHost started for this run, found in /proc by their program name and by the
/// run's id in their environment: another AppHost on the machine (a developer's, on its usual ports) runs
/// the same programs, and its processes must not count.
/// </summary>
internal static class ServiceProcesses
{
    /// <summary>The environment variable that carries the run's id into each service process (BenchApp sets it).</summary>
    public const string RunVariable = "Bidder__Benchmark__Run";

    /// <summary>
    /// The largest peak resident set (VmHWM) among this run's processes running <paramref name="program"/>, in MB;
    /// 0 when none is found.
    /// </summary>
    public static double PeakMegabytes(string program, string run)
    {
        var peakKb = 0L;
        foreach (var directory in Find(program, run))
        {
            try
            {
                var line = File.ReadLines(Path.Combine(directory, "status")).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                if (line is not null)
                {
                    peakKb = Math.Max(peakKb, long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
                }
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
        }

        return peakKb / 1024.0;
    }

    /// <summary>
    /// The CPU time (user and system) this run's processes running <paramref name="program"/> have used so far. On a
    /// shared machine a process's CPU time per request holds where its requests per second do not: it is the
    /// same whether the process waited for a core or not.
    /// </summary>
    public static TimeSpan CpuTime(string program, string run)
    {
        var ticks = 0L;
        foreach (var directory in Find(program, run))
        {
            try
            {
                ticks += StatTicks(directory);
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
        }

        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    /// <summary>
    /// The CPU time so far of this run's <paramref name="program"/> threads named <paramref name="thread"/> (as /proc
    /// shows a thread's name: its first 15 characters), the ones alive now: a thread that ended takes its time with it.
    /// </summary>
    public static TimeSpan ThreadCpuTime(string program, string run, string thread)
    {
        var ticks = 0L;
        foreach (var directory in Find(program, run))
        {
            try
            {
                foreach (var task in Directory.EnumerateDirectories(Path.Combine(directory, "task")))
                {
                    if (File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == thread)
                    {
                        ticks += StatTicks(task);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process or the thread ended while being read.
            }
        }

        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    /// <summary>This process's CPU time so far: the benchmark's own work and the AppHost it hosts, the embedded broker included.</summary>
    public static TimeSpan HarnessCpuTime()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>A process's or a thread's user and system CPU time, in clock ticks, from its /proc folder.</summary>
    private static long StatTicks(string directory)
    {
        // stat: utime and stime are the 14th and 15th fields; the 2nd (the name, in parentheses) may hold spaces,
        // so fields are counted after its ')'.
        var stat = File.ReadAllText(Path.Combine(directory, "stat"));
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
            + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
    }

    // USER_HZ, the unit of /proc's CPU times: 100 on every Linux build .NET runs on.
    private const int ClockTicksPerSecond = 100;

    /// <summary>The /proc folders of this run's processes running <paramref name="program"/>.</summary>
    private static List<string> Find(string program, string run)
    {
        var found = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            return found;
        }

        var marker = $"{RunVariable}={run}";
        foreach (var directory in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                // The program itself (its apphost, or its dll under dotnet), not the `dotnet run --project
                // Bidder.Api.csproj` that launched it: matched on the whole file name, since Path's idea of an
                // extension would make "Bidder.Api" the program "Bidder" with the extension ".Api".
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                if (commandLine.Any(part => Path.GetFileName(part) is var file && (file == program || file == $"{program}.dll"))
                    && File.ReadAllText(Path.Combine(directory, "environ")).Split('\0').Contains(marker))
                {
                    found.Add(directory);
                }
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
            catch (UnauthorizedAccessException)
            {
                // Another user's process: not one of this run's.
            }
        }

        return found;
    }
}
