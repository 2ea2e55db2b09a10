using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace BusinessApi.FunctionsHost;

/// <summary>
/// One HTTP trigger per capability area, each with a catch-all route, so the portal shows invocations per area; every
/// one forwards into the application's pipeline, which routes, authenticates, limits and answers as on Kestrel.
/// Function keys are not used (<see cref="AuthorizationLevel.Anonymous"/>): the API authenticates its callers itself.
/// <c>host.json</c> sets <c>extensions.http.routePrefix</c> to <c>""</c>, so the paths are the API's own.
/// </summary>
public sealed class HttpFunctions(ApplicationPipeline pipeline)
{
    private const AuthorizationLevel Anonymous = AuthorizationLevel.Anonymous;
    private const string Get = "get", Head = "head", Post = "post", Put = "put", Delete = "delete", Patch = "patch", Options = "options";

    /// <summary>
    /// The pipeline has written the answer into the response; the empty result tells the worker there is nothing to add
    /// (and gives each function the <c>$return</c> HTTP output binding the host expects of an HTTP trigger).
    /// </summary>
    private static readonly EmptyResult Answered = new();

    // The platform: probes, the OpenAPI documents and the API reference.
    [Function("health")]
    public Task<IActionResult> Health([HttpTrigger(Anonymous, Get, Head, Route = "healthz")] HttpRequest request) => ForwardAsync(request);

    [Function("readiness")]
    public Task<IActionResult> Readiness([HttpTrigger(Anonymous, Get, Head, Route = "readyz")] HttpRequest request) => ForwardAsync(request);

    [Function("openapi")]
    public Task<IActionResult> OpenApi([HttpTrigger(Anonymous, Get, Head, Route = "openapi/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("docs")]
    public Task<IActionResult> Docs([HttpTrigger(Anonymous, Get, Head, Route = "docs/{*rest}")] HttpRequest request) => ForwardAsync(request);

    // Credentials and sessions.
    [Function("oauth")]
    public Task<IActionResult> OAuth([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/oauth/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("credentials")]
    public Task<IActionResult> Credentials([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/credentials/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("sessions")]
    public Task<IActionResult> Sessions([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/sessions/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("users")]
    public Task<IActionResult> Users([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/users/{*rest}")] HttpRequest request) => ForwardAsync(request);

    // Accounts, statements and rates.
    [Function("accounts")]
    public Task<IActionResult> Accounts([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/accounts/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("exchange-rates")]
    public Task<IActionResult> ExchangeRates([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/exchange-rates/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("calendar")]
    public Task<IActionResult> Calendar([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/calendar/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("operational-day")]
    public Task<IActionResult> OperationalDay([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/operational-day/{*rest}")] HttpRequest request) => ForwardAsync(request);

    // Documents, signatures, refunds.
    [Function("documents")]
    public Task<IActionResult> Documents([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/documents/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("signatures")]
    public Task<IActionResult> Signatures([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/signatures/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("refunds")]
    public Task<IActionResult> Refunds([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/refunds/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("penalty-claims")]
    public Task<IActionResult> PenaltyClaims([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/penalty-claims/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("error-reports")]
    public Task<IActionResult> ErrorReports([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/error-reports/{*rest}")] HttpRequest request) => ForwardAsync(request);

    // Notices and webhooks.
    [Function("notifications")]
    public Task<IActionResult> Notifications([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/notifications/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("webhooks")]
    public Task<IActionResult> Webhooks([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/webhooks/{*rest}")] HttpRequest request) => ForwardAsync(request);

    [Function("security-incidents")]
    public Task<IActionResult> SecurityIncidents([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/security-incidents/{*rest}")] HttpRequest request) => ForwardAsync(request);

    // Service control (termination of the service).
    [Function("termination")]
    public Task<IActionResult> Termination([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/termination/{*rest}")] HttpRequest request) => ForwardAsync(request);

    // Bank staff: every operator endpoint (served on the internal app only, see Operations:Endpoints).
    [Function("operations")]
    public Task<IActionResult> Operations([HttpTrigger(Anonymous, Get, Head, Post, Put, Delete, Patch, Options, Route = "api/v1/ops/{*rest}")] HttpRequest request) => ForwardAsync(request);

    private async Task<IActionResult> ForwardAsync(HttpRequest request)
    {
        await pipeline.ForwardAsync(request);
        return Answered;
    }
}
