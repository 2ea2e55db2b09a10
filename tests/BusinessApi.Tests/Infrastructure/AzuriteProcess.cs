using System.Diagnostics;
using System.Net.Sockets;

namespace BusinessApi.Tests.Infrastructure;

/// <summary>
/// An Azurite of a test's own (the repository's pinned copy, on free loopback ports, with a data folder of its own),
/// so a test can pause it (SIGSTOP), resume it (SIGCONT), stop it cleanly (SIGTERM) and start it again on the same
/// ports and data — what a storage stall or restart looks like to the app — without touching the shared one.
/// </summary>
public sealed class AzuriteProcess : IAsyncDisposable
{
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly string _data = Directory.CreateTempSubdirectory("azurite-").FullName;
    private readonly int[] _ports = [ChildProcess.FreePort(), ChildProcess.FreePort(), ChildProcess.FreePort()];
    private Process? _process;

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Key};BlobEndpoint=http://127.0.0.1:{_ports[0]}/devstoreaccount1;" +
        $"QueueEndpoint=http://127.0.0.1:{_ports[1]}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{_ports[2]}/devstoreaccount1;";

    public static async Task<AzuriteProcess> StartAsync()
    {
        var azurite = new AzuriteProcess();
        await azurite.StartAgainAsync();
        return azurite;
    }

    /// <summary>Starts it (again) on its ports and data folder, and waits until every port answers.</summary>
    public async Task StartAgainAsync()
    {
        var start = new ProcessStartInfo(Repository.PathOf("node_modules", ".bin", "azurite")) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[]
        {
            "--blobHost", "127.0.0.1", "--blobPort", _ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--queueHost", "127.0.0.1", "--queuePort", _ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--tableHost", "127.0.0.1", "--tablePort", _ports[2].ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--location", _data, "--skipApiVersionCheck", "--disableTelemetry", "--silent",
        })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Eventually.GetAsync(() => Task.FromResult(_ports.All(Listening)), up => up, TimeSpan.FromSeconds(60), "Azurite listening");
    }

    /// <summary>SIGSTOP: the process is frozen; the kernel still accepts connections, nothing answers them.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT: it goes on where it stopped.</summary>
    public void Resume() => Signal("CONT");

    /// <summary>SIGTERM and wait: a clean stop that keeps every acknowledged write in the data folder.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            Signal("TERM");
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(limit.Token);
        }
    }

    private void Signal(string signal)
    {
        // The repository's azurite is a shell launcher; its node child holds the ports: signal the whole group of it.
        var pid = _process?.Id ?? throw new InvalidOperationException("Azurite is not running.");
        using var kill = Process.Start(new ProcessStartInfo("pkill") { ArgumentList = { "-" + signal, "-P", pid.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        kill.WaitForExit();
        using var self = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        self.WaitForExit();
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            Resume();
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
