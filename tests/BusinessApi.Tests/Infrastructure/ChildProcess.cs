using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace BusinessApi.Tests.Infrastructure;

/// <summary>A child process run to its end, and free loopback ports for the ones that serve.</summary>
public static class ChildProcess
{
    /// <summary>Runs <paramref name="file"/> and returns its exit code and both outputs; gives up after <paramref name="timeout"/>.</summary>
    public static async Task<ChildProcessResult> RunAsync(
        string file, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return new ChildProcessResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A loopback port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed record ChildProcessResult(int ExitCode, string Output, string Errors)
{
    public string Diagnostics => (Output + Errors).Trim();
}
