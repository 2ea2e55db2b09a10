using System.Globalization;
using BusinessApi.Platform.Workflows;
using BusinessApi.Testing;
using BusinessApi.WorkflowHost;

// The crash-test host: the app with the sample workflows and the storage fault injector (Faults:*); crash tests
// run several of these processes against one Azurite, and kill them through the injector.
// POST /samples/three-step?from=0&count=1000 starts instances "s-0" ... "s-999" in this process.
var app = InstrumentedApp.Create(args, builder => builder.Services.AddSampleWorkflows(), includeLocalSettings: false);
app.MapPost("/samples/three-step", async (int from, int count, bool? effects, WorkflowEngine engine, ThreeStepWorkflow workflow, CancellationToken ct) =>
{
    await Parallel.ForEachAsync(Enumerable.Range(from, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
    {
        var id = "s-" + i.ToString(CultureInfo.InvariantCulture);
        await engine.StartAsync(workflow, Samples.Location(id), id, new CounterData(0, effects ?? true), cancellationToken: token);
    });
    return Results.Accepted();
});
app.Run();
