namespace Bidder.Benchmarks.Harness;

/// <summary>The service processes the AppHost started, found in /proc by their program name.</summary>
internal static class ServiceProcesses
{
    /// <summary>The largest peak resident set (VmHWM) among processes running <paramref name="program"/>, in MB; 0 when none is found.</summary>
    public static double PeakMegabytes(string program)
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        var peakKb = 0L;
        foreach (var directory in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline")).Split('\0');
                if (!commandLine.Any(part => Path.GetFileNameWithoutExtension(part) == program))
                {
                    continue;
                }

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
            catch (UnauthorizedAccessException)
            {
            }
        }

        return peakKb / 1024.0;
    }
}
