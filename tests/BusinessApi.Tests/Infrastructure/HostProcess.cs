using System.Diagnostics;
using System.Net;

namespace BusinessApi.Tests.Infrastructure;

/// <summary>A separate app process with the sample workflows (tests/WorkflowHost) on a free port.</summary>
public sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly HttpClient _client;

    private HostProcess(Process process, Uri address)
    {
        _process = process;
        _client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(3) };
    }

    public bool HasExited => _process.HasExited;

    public Uri BaseAddress => _client.BaseAddress!;

    /// <summary>The crash-test host (tests/WorkflowHost): the app plus sample workflows and the storage fault injector.</summary>
    public static HostProcess Start(string prefix, params (string Key, string Value)[] settings) =>
        Start(Path.Combine("..", "..", "..", "..", "WorkflowHost"), "BusinessApi.WorkflowHost.dll", prefix, settings);

    /// <summary>The real app (functions/) as its own process, e.g. to be killed mid-run; it cannot be told to fail.</summary>
    public static HostProcess StartFunctions(string prefix, params (string Key, string Value)[] settings) =>
        Start(Path.Combine("..", "..", "..", "..", "..", "functions"), "BusinessApi.Functions.dll", prefix, settings);

    private static HostProcess Start(string project, string assembly, string prefix, (string Key, string Value)[] settings)
    {
        var port = ChildProcess.FreePort();
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<configuration>/net10.0
        var dll = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, project, "bin", configuration, "net10.0", assembly));
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
        foreach (var argument in new[]
        {
            dll, "--urls", $"http://127.0.0.1:{port}",
            $"--AzureWebJobsStorage={Azurite.ConnectionString}",
            $"--Storage:TablePrefix={prefix}",
            $"--Operations:ApiKeys={new string('k', 40)}",
            "--Operations:AllowStaticKeys=true",
            "--Workflows:LeaseSeconds=2",
            "--Workflows:SweepIntervalMilliseconds=200",
            "--Logging:LogLevel:Default=Error",
        }.Concat(settings.Select(s => $"--{s.Key}={s.Value}")))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new HostProcess(process, new Uri($"http://127.0.0.1:{port}"));
    }

    public Task<bool> WaitUntilHealthyAsync() => Eventually.GetAsync(async () =>
    {
        try
        {
            return (await _client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }, ok => ok, TimeSpan.FromSeconds(60), "host process ready");

    /// <summary>False when the host died before answering (what it had already started is recovered by the others).</summary>
    public async Task<bool> StartInstancesAsync(int from, int count)
    {
        try
        {
            return (await _client.PostAsync($"/samples/three-step?from={from}&count={count}&effects=true", null)).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // SIGKILL: no shutdown, no flush
        }
    }

    public void Dispose()
    {
        Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
        _client.Dispose();
    }
}
