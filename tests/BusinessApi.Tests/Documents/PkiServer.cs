using System.Collections.Concurrent;
using BusinessApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// A PKI's services on loopback, as NCA RK runs them at crl.pki.gov.kz and ocsp.pki.gov.kz: CRLs by name
/// (<c>GET /crl/{name}</c>) and an OCSP responder (<c>POST /ocsp</c>) whose answers the test decides.
/// </summary>
public sealed class PkiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _ocspRequests;

    private PkiServer(WebApplication app) => _app = app;

    public ConcurrentDictionary<string, byte[]> Crls { get; } = new(StringComparer.Ordinal);

    /// <summary>The responder's answer to a DER request; null answers 503 (the responder is down).</summary>
    public Func<byte[], byte[]?> Ocsp { get; set; } = _ => null;

    public int OcspRequests => Volatile.Read(ref _ocspRequests);

    public Uri BaseAddress { get; private init; } = null!;

    public Uri CrlUrl(string name) => new(BaseAddress, "/crl/" + name);

    public Uri OcspUrl => new(BaseAddress, "/ocsp");

    public static async Task<PkiServer> StartAsync()
    {
        PkiServer? server = null;
        var (app, address) = await LoopbackServer.StartAsync(app =>
        {
            app.MapGet("/crl/{name}", (string name) => server!.Crls.TryGetValue(name, out var crl)
                ? Results.Bytes(crl, "application/pkix-crl")
                : Results.NotFound());
            app.MapPost("/ocsp", async (HttpRequest request) =>
            {
                Interlocked.Increment(ref server!._ocspRequests);
                using var body = new MemoryStream();
                await request.Body.CopyToAsync(body);
                return server.Ocsp(body.ToArray()) is { } answer ? Results.Bytes(answer, "application/ocsp-response") : Results.StatusCode(503);
            });
        });
        server = new PkiServer(app) { BaseAddress = address };
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
