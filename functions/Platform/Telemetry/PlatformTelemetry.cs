using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Azure.Monitor.OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace BusinessApi.Platform.Telemetry;

/// <summary>Settings of OpenTelemetry (appsettings.json <c>telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Collects even with no exporter configured (tests add their own exporter).</summary>
    public bool Enabled { get; set; }

    /// <summary>Writes traces and metrics to the console; on by default in Development.</summary>
    public bool? Console { get; set; }

    /// <summary>Spans of every Azure SDK call (storage, Key Vault) under the request or step that made it.</summary>
    public bool AzureSdkSpans { get; set; } = true;

    /// <summary>The share of traces kept (0 to 1), decided where a trace starts; its spans all follow.</summary>
    [Range(0.0, 1.0)]
    public double SamplingRatio { get; set; } = 1.0;
}

/// <summary>
/// The app's own telemetry sources and the OpenTelemetry wiring: traces, metrics and logs from ASP.NET
/// Core, HttpClient, the Azure SDK and these sources, exported to Azure Monitor when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set and to the console in Development. With neither
/// (and <c>Telemetry:Enabled</c> off) nothing listens, so nothing is collected or paid for.
/// </summary>
public static class PlatformTelemetry
{
    public const string Prefix = "BusinessApi";
    public const string WorkflowsName = Prefix + ".Workflows";
    public const string TimersName = Prefix + ".Timers";
    public const string AzureMonitorSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>A span per workflow step, a child of the trace that started the instance (kept with it in storage).</summary>
    public static readonly ActivitySource Workflows = new(WorkflowsName);

    /// <summary>A span per timer job run.</summary>
    public static readonly ActivitySource Timers = new(TimersName);

    private static readonly Meter WorkflowMeter = new(WorkflowsName);
    private static readonly Meter TimerMeter = new(TimersName);

    public static readonly Counter<long> WorkflowSteps = WorkflowMeter.CreateCounter<long>("workflow.steps", description: "Workflow steps run, by workflow, state and outcome");

    public static readonly Histogram<double> WorkflowStepDuration = WorkflowMeter.CreateHistogram<double>("workflow.step.duration", "ms", "How long a workflow step ran, commit included");

    public static readonly Counter<long> TimerRuns = TimerMeter.CreateCounter<long>("timer.runs", description: "Timer job runs, by job and outcome");

    public static readonly Histogram<double> TimerRunDuration = TimerMeter.CreateHistogram<double>("timer.run.duration", "ms", "How long a timer job ran");

    /// <summary>Starts a step's span under <paramref name="traceParent"/> (W3C), or under the current span when there is none.</summary>
    public static Activity? StartStep(string workflow, string state, string instanceId, int attempt, string? traceParent)
    {
        if (!Workflows.HasListeners())
        {
            return null;
        }

        var parent = traceParent is not null && ActivityContext.TryParse(traceParent, null, out var stored) ? stored : default;
        var activity = Workflows.StartActivity($"{workflow} {state}", ActivityKind.Internal, parent);
        activity?.SetTag("workflow.name", workflow);
        activity?.SetTag("workflow.state", state);
        activity?.SetTag("workflow.instance_id", instanceId);
        activity?.SetTag("workflow.attempt", attempt);
        return activity;
    }

    /// <summary>The W3C trace context to keep with a new workflow instance, if a trace is being recorded.</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C, Recorded: true } current ? current.Id : null;

    /// <summary>
    /// Drops traces that would start at an outgoing call: the sweeps' and pollers' storage calls made on
    /// no one's behalf (16 queries a second per replica). Calls made under a request, a workflow step or a
    /// timer run follow their parent, so a trace still shows every storage call its work made.
    /// </summary>
    internal sealed class NoBackgroundCallsSampler(double ratio) : Sampler
    {
        private readonly TraceIdRatioBasedSampler _ratio = new(ratio);

        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters)
        {
            var outgoing = samplingParameters.Kind == ActivityKind.Client;
            if (!outgoing && samplingParameters.Tags is { } tags)
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "az.namespace")
                    {
                        outgoing = true; // an Azure SDK operation
                        break;
                    }
                }
            }

            return outgoing ? new SamplingResult(SamplingDecision.Drop) : _ratio.ShouldSample(samplingParameters);
        }
    }

    public static IHostApplicationBuilder AddPlatformTelemetry(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var options = configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true); // read before the host exists: checked here, at start-up
        var azureMonitor = configuration[AzureMonitorSetting] is { Length: > 0 } connectionString ? connectionString : null;
        var console = options.Console ?? builder.Environment.IsDevelopment();

        // Logs carry the trace and span ids, so a line in Log Analytics leads to its trace.
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions =
            ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        if (!builder.Environment.IsDevelopment())
        {
            // Container logs as one JSON object per line, with scopes (request id, trace id).
            builder.Logging.AddJsonConsole(json => json.IncludeScopes = true);
        }

        if (azureMonitor is null && !console && !options.Enabled)
        {
            return builder;
        }

        if (options.AzureSdkSpans)
        {
            // Azure.Core emits ActivitySource spans only when asked to.
            AppContext.SetSwitch("Azure.Experimental.EnableActivitySource", true);
        }

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName: configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : "business-api",
                serviceVersion: typeof(PlatformTelemetry).Assembly.GetName().Version?.ToString()))
            .WithTracing(tracing =>
            {
                // A caller's traceparent links our trace to theirs, but its sampled flag does not decide ours.
                var root = new NoBackgroundCallsSampler(options.SamplingRatio);
                tracing.SetSampler(new ParentBasedSampler(root,
                        remoteParentSampled: root, remoteParentNotSampled: root,
                        localParentSampled: new AlwaysOnSampler(), localParentNotSampled: new AlwaysOffSampler()))
                    .AddSource(Prefix + ".*")
                    .AddAspNetCoreInstrumentation(aspNet =>
                    {
                        // Probes every few seconds are noise, not traffic.
                        aspNet.Filter = context => !context.Request.Path.StartsWithSegments("/healthz") && !context.Request.Path.StartsWithSegments("/readyz");
                        aspNet.RecordException = true;
                    })
                    .AddHttpClientInstrumentation(http =>
                    {
                        http.RecordException = true;
                        // The Azure SDK traces its own HTTP calls (Azure.Core.Http); one span per call is enough.
                        http.FilterHttpRequestMessage = request => !request.Headers.Contains("x-ms-client-request-id");
                    });
                if (options.AzureSdkSpans)
                {
                    tracing.AddSource("Azure.*");
                }

                if (azureMonitor is not null)
                {
                    tracing.AddAzureMonitorTraceExporter(exporter => exporter.ConnectionString = azureMonitor);
                }

                if (console)
                {
                    tracing.AddConsoleExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Prefix + ".*")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                if (azureMonitor is not null)
                {
                    metrics.AddAzureMonitorMetricExporter(exporter => exporter.ConnectionString = azureMonitor);
                }

                if (console)
                {
                    // once a minute: a development console, not a dashboard
                    metrics.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000);
                }
            });
        if (azureMonitor is not null)
        {
            otel.WithLogging(logging => logging.AddAzureMonitorLogExporter(exporter => exporter.ConnectionString = azureMonitor),
                logOptions =>
                {
                    logOptions.IncludeFormattedMessage = true;
                    logOptions.IncludeScopes = true;
                });
        }

        return builder;
    }
}
