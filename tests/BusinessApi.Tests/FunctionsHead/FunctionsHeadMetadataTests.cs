using System.Text.Json;
using System.Text.RegularExpressions;
using BusinessApi.Platform.Timers;
using BusinessApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.FunctionsHead;

/// <summary>
/// What the Functions host will index, read from the head's build output (<c>functions.metadata</c>, <c>host.json</c>):
/// every trigger's route, methods, schedule and queue, and every public route of the Kestrel host reachable through one.
/// </summary>
public sealed class FunctionsHeadMetadataTests
{
    private static readonly string[] AllMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

    [Fact]
    public void HttpTriggers_AreAnonymous_WithTheApisOwnPaths_AndAnswerThroughTheirReturnValue()
    {
        var http = FunctionsMetadata.Http.ToList();
        Assert.NotEmpty(http);
        foreach (var function in http)
        {
            Assert.Equal("Anonymous", function.Property("authLevel"), ignoreCase: true); // the API authenticates its callers itself
            Assert.EndsWith("{*rest}", function.Route!.Replace("healthz", "{*rest}", StringComparison.Ordinal).Replace("readyz", "{*rest}", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.False(function.Route!.StartsWith("api/api", StringComparison.Ordinal));
            Assert.Contains(function.Bindings, b => b.GetProperty("name").GetString() == "$return" && b.GetProperty("type").GetString() == "http");
            if (function.Route!.StartsWith("api/v1/", StringComparison.Ordinal))
            {
                Assert.Equal(AllMethods.Order(), function.Methods.Order());
            }
            else
            {
                Assert.Equal(["GET", "HEAD"], function.Methods.Order());
            }
        }

        Assert.Equal(http.Count, http.Select(f => f.Route).Distinct().Count());
        Assert.Contains(http, f => f.Route == "api/v1/documents/{*rest}");
        Assert.Contains(http, f => f.Route == "api/v1/ops/{*rest}");
    }

    [Fact]
    public async Task EveryScheduledJob_HasATimerTrigger_OnItsOwnSchedule_AndTheWakeupQueueHasItsTrigger()
    {
        await using var app = FunctionsApp.Create(["--AzureWebJobsStorage=UseDevelopmentStorage=true"], includeLocalSettings: false);
        var scheduler = app.Services.GetRequiredService<TimerScheduler>();
        var jobs = scheduler.Schedules();
        var timers = FunctionsMetadata.All.Where(f => f.TriggerType == "timerTrigger").ToDictionary(f => f.Name);

        Assert.Equal(jobs.Select(j => "timer-" + j.Name).Order(), timers.Keys.Order());
        foreach (var (name, schedule) in jobs)
        {
            var trigger = timers["timer-" + name];
            Assert.Equal(schedule.Text, trigger.Property("schedule"));
            Assert.Equal(6, trigger.Property("schedule")!.Split(' ').Length); // NCRONTAB with seconds, as the host reads it
            Assert.False(trigger.Trigger.TryGetProperty("runOnStartup", out var onStart) && onStart.GetBoolean(), "the scheduler catches up itself");
        }

        var queue = Assert.Single(FunctionsMetadata.All, f => f.TriggerType == "queueTrigger");
        Assert.Equal(WakeupAlarm.QueueName, queue.Property("queueName"));
        Assert.Equal("AzureWebJobsStorage", queue.Property("connection"));
        Assert.Equal("String", queue.Property("dataType"));
    }

    [Fact]
    public async Task EveryRouteOfTheKestrelHost_IsReachedByAnHttpTrigger_WithItsMethods()
    {
        await using var app = FunctionsApp.Create(["--AzureWebJobsStorage=UseDevelopmentStorage=true", "--Operations:Endpoints=true"], includeLocalSettings: false);
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var triggers = FunctionsMetadata.Http.Select(f => (f.Name, f.Methods, Matcher: new TemplateMatcher(TemplateParser.Parse(f.Route!), new RouteValueDictionary()))).ToList();
        Assert.True(endpoints.Count > 100, $"the host maps its endpoints ({endpoints.Count})");

        var unreached = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var path = SamplePath(endpoint.RoutePattern);
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var reached = triggers.Where(t => t.Matcher.TryMatch(path, new RouteValueDictionary())).ToList();
            if (reached.Count != 1 || !methods.All(m => reached[0].Methods.Contains(m)))
            {
                unreached.Add($"{string.Join(",", methods)} {endpoint.RoutePattern.RawText} ({path}): {string.Join(", ", reached.Select(r => r.Name))}");
            }
        }

        Assert.True(unreached.Count == 0, "Routes no trigger (or more than one) reaches:\n" + string.Join("\n", unreached));
    }

    [Fact]
    public void HostJson_IsValidForTheFunctionsHost_AndSetsWhatTheHeadRelies_On()
    {
        using var excerpt = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "FunctionsHead", "schemas", "host-json-v2.excerpt.json")));
        var schema = excerpt.RootElement;
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FunctionsMetadata.OutputFolder, "host.json")));
        var host = document.RootElement;
        Assert.Equal(File.ReadAllText(Repository.PathOf("host.json")), File.ReadAllText(Path.Combine(FunctionsMetadata.OutputFolder, "host.json")));

        AssertOnly(host, schema.GetProperty("root").GetProperty("properties"), "host.json");
        Assert.Equal("2.0", host.GetProperty("version").GetString());

        var logging = host.GetProperty("logging");
        AssertOnly(logging, schema.GetProperty("logging").GetProperty("properties"), "logging");
        var levels = Strings(schema.GetProperty("logging").GetProperty("logLevels"));
        Assert.All(logging.GetProperty("logLevel").EnumerateObject(), level => Assert.Contains(level.Value.GetString()!, levels));
        AssertOnly(logging.GetProperty("applicationInsights"), schema.GetProperty("logging").GetProperty("applicationInsights"), "applicationInsights");
        AssertOnly(logging.GetProperty("applicationInsights").GetProperty("samplingSettings"), schema.GetProperty("logging").GetProperty("samplingSettings"), "samplingSettings");

        var http = host.GetProperty("extensions").GetProperty("http");
        AssertOnly(http, schema.GetProperty("extensions").GetProperty("http").GetProperty("properties"), "extensions.http");
        Assert.Equal("", http.GetProperty("routePrefix").GetString()); // paths stay /api/v1/...

        var queues = host.GetProperty("extensions").GetProperty("queues");
        var queueSchema = schema.GetProperty("extensions").GetProperty("queues");
        AssertOnly(queues, queueSchema.GetProperty("properties"), "extensions.queues");
        Assert.Equal("none", queues.GetProperty("messageEncoding").GetString()); // the alarm writes plain text
        Assert.Contains("none", Strings(queueSchema.GetProperty("messageEncoding")));
        var batch = queues.GetProperty("batchSize").GetInt32();
        Assert.InRange(batch, queueSchema.GetProperty("batchSize")[0].GetInt32(), queueSchema.GetProperty("batchSize")[1].GetInt32());
        Assert.Matches(new Regex(queueSchema.GetProperty("timeSpanPattern").GetString()!), queues.GetProperty("maxPollingInterval").GetString()!);

        // The app's own settings live in appsettings.json, which both heads read; none are left in host.json.
        Assert.False(host.TryGetProperty("workflows", out _));
        Assert.True(File.Exists(Path.Combine(FunctionsMetadata.OutputFolder, "appsettings.json")));
    }

    private static void AssertOnly(JsonElement element, JsonElement allowed, string where)
    {
        var names = Strings(allowed);
        Assert.All(element.EnumerateObject(), p => Assert.True(names.Contains(p.Name), $"{where}: '{p.Name}' is not in the host's schema"));
    }

    private static HashSet<string> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    /// <summary>A concrete path for a route pattern: each parameter gets a value its constraints accept.</summary>
    private static string SamplePath(RoutePattern pattern)
    {
        var segments = pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart { IsCatchAll: true } => "a/b",
            RoutePatternParameterPart parameter when parameter.ParameterPolicies.Any(p => p.Content is "int" or "long") => "2026",
            RoutePatternParameterPart => "x1",
            _ => throw new InvalidOperationException(part.GetType().Name),
        })));
        return "/" + string.Join('/', segments);
    }
}
