using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents.Signatures;

/// <summary>
/// HTTP to the PKI's services (CRL distribution points, the OCSP responder): no redirects, no cookies, a hard
/// timeout, a cap on the bytes read. One instance per process.
/// </summary>
public sealed class PkiHttp : IDisposable
{
    private const int MaxCrlBytes = 64 * 1024 * 1024;
    private const int MaxOcspBytes = 256 * 1024;

    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan, // each call sets its own
    };

    /// <summary>The CRL at <paramref name="url"/>; throws <see cref="HttpRequestException"/> on any failure.</summary>
    public Task<byte[]> GetCrlAsync(Uri url, CancellationToken cancellationToken) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, url), MaxCrlBytes, TimeSpan.FromSeconds(60), cancellationToken);

    /// <summary>The responder's answer to <paramref name="request"/> within <paramref name="timeout"/>.</summary>
    public Task<byte[]> PostOcspAsync(Uri url, byte[] request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(request) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/ocsp-request");
        return SendAsync(message, MaxOcspBytes, timeout, cancellationToken);
    }

    public void Dispose() => _client.Dispose();

    private async Task<byte[]> SendAsync(HttpRequestMessage message, int maxBytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var request = message;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"HTTP {(int)response.StatusCode}", null, response.StatusCode);
            }

            if (response.Content.Headers.ContentLength > maxBytes)
            {
                throw new HttpRequestException("response too large");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(deadline.Token);
            using var buffer = new MemoryStream();
            var chunk = new byte[81_920];
            int read;
            while ((read = await stream.ReadAsync(chunk, deadline.Token)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > maxBytes)
                {
                    throw new HttpRequestException("response too large");
                }
            }

            return buffer.ToArray();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HttpRequestException($"no answer within {timeout.TotalMilliseconds:0} ms");
        }
    }
}

/// <summary>
/// Whether a verified chain is revoked: OCSP first when <see cref="SignatureOptions.OcspUrl"/> is set and the
/// question is about now (answers cached for their validity), the CRLs on file otherwise or when OCSP does not
/// answer. <see cref="SignatureOptions.RequireCrl"/> fails closed only when neither source has a current answer.
/// A responder that does not answer is left alone for 30 seconds, so a dead OCSP service costs one timeout, not
/// one per document. A certificate revoked after the instant judged (the time-stamp's, else the receipt's) still counts for that
/// signature. CAs above the signer's are checked by their CRLs (ARLs) when on file. A signature that
/// already failed another check is not worth a request: its report shows what the CRLs say.
/// </summary>
public sealed partial class RevocationChecker(PkiHttp http, IOptions<SignatureOptions> options, TimeProvider time, ILogger<RevocationChecker> logger)
{
    public const string MeterName = "BusinessApi.Signatures";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Answers = Meter.CreateCounter<long>(
        "signatures.revocation_answers", description: "Revocation answers used for signatures, by source (ocsp, crl) and status");

    // After a responder fails to answer, documents go straight to the CRLs for a while instead of each waiting out the timeout.
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, OcspAnswer> _cache = new(StringComparer.Ordinal);
    private long _pausedUntilTicks;

    /// <summary>
    /// Completes <paramref name="check"/> (verified but for revocation) with the revocation answer; its verdict stays
    /// the first failure. <paramref name="live"/> false (an investigation of a past instant) uses the CRLs on file only.
    /// A revocation is final: a CRL on file that lists the certificate outweighs a responder that says good.
    /// </summary>
    public async Task<SignatureCheck> CompleteAsync(SignatureCheck check, TrustMaterial trust, bool live, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(trust);
        if (check.Chain is not { Elements.Count: >= 2 } chain)
        {
            return check;
        }

        var at = check.EvaluatedAt;
        var settings = options.Value;
        var subject = chain.Elements[0];
        var issuer = chain.Elements[1];
        RevocationFacts facts;
        string? failure;
        string? ocspProblem = null;
        if (live && check.Failure is null && !string.IsNullOrWhiteSpace(settings.OcspUrl))
        {
            var (answer, problem) = await AskAsync(new Uri(settings.OcspUrl), subject, issuer, cancellationToken);
            ocspProblem = problem;
            if (answer is { Status: OcspAnswer.Good or OcspAnswer.Revoked })
            {
                var listed = trust.CrlStatus(subject, issuer, at);
                var revoked = answer.Status == OcspAnswer.Revoked && answer.RevokedAt <= at || listed.Revoked;
                failure = revoked ? SignatureFailures.Revoked : trust.RevocationFailure(chain with { Elements = chain.Elements.Skip(1).ToList() }, at, requireCrl: false);
                facts = listed.Revoked && answer.Status == OcspAnswer.Good
                    ? new RevocationFacts("crl", OcspAnswer.Revoked, listed.RevokedAt, listed.Delta?.ThisUpdate ?? listed.Base?.ThisUpdate, "the CRL lists it; OCSP said good")
                    : new RevocationFacts("ocsp", answer.Status, answer.RevokedAt, answer.ProducedAt, answer.Responder);
                Answers.Add(1, new("source", "ocsp"), new("status", answer.Status));
                return Completed(check, failure, facts);
            }

            ocspProblem ??= answer is null ? null : "responder answered unknown";
        }

        var crl = trust.CrlStatus(subject, issuer, at);
        failure = trust.RevocationFailure(chain, at, settings.RequireCrl);
        var status = crl.Revoked ? OcspAnswer.Revoked : crl.Base is null ? "noCrl" : crl.Current ? OcspAnswer.Good : "stale";
        facts = new RevocationFacts(crl.Delta is null ? "crl" : "crl+delta", status, crl.RevokedAt, crl.Delta?.ThisUpdate ?? crl.Base?.ThisUpdate,
            ocspProblem is null ? null : "OCSP: " + ocspProblem);
        Answers.Add(1, new("source", "crl"), new("status", status));
        return Completed(check, failure, facts);
    }

    private static SignatureCheck Completed(SignatureCheck check, string? failure, RevocationFacts facts)
    {
        var steps = check.Checks.Where(s => s.Name != "revocation").Append(new SignatureCheckStep("revocation", failure is null, failure, facts.Source + ": " + facts.Status)).ToList();
        var verdict = check.Failure ?? failure;
        return check with { Failure = verdict, Content = verdict is null ? check.Content : null, Revocation = facts, Checks = steps };
    }

    private async Task<(OcspAnswer? Answer, string? Problem)> AskAsync(Uri responder, NcaCertificate subject, NcaCertificate issuer, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var key = issuer.Thumbprint + "|" + subject.SerialNumber;
        if (_cache.TryGetValue(key, out var cached) && (cached.NextUpdate ?? cached.ThisUpdate.AddSeconds(options.Value.OcspCacheSeconds)) > now)
        {
            return (cached, null);
        }

        if (now.UtcTicks < Interlocked.Read(ref _pausedUntilTicks))
        {
            return (null, "unavailable moments ago; not asked again yet");
        }

        var nonce = RandomNumberGenerator.GetBytes(16);
        try
        {
            var response = await http.PostOcspAsync(responder, Ocsp.Request(subject.SerialNumber, issuer, nonce),
                TimeSpan.FromMilliseconds(options.Value.OcspTimeoutMilliseconds), cancellationToken);
            var (answer, problem) = Ocsp.Read(response, subject.SerialNumber, issuer, nonce, time.GetUtcNow(), TimeSpan.FromSeconds(options.Value.ClockSkewSeconds));
            if (answer is null)
            {
                LogOcspRefused(logger, responder, problem!);
                return (null, problem);
            }

            if (_cache.Count > 100_000)
            {
                _cache.Clear();
            }

            _cache[key] = answer;
            return (answer, null);
        }
        catch (HttpRequestException ex)
        {
            Interlocked.Exchange(ref _pausedUntilTicks, (time.GetUtcNow() + PauseAfterFailure).UtcTicks);
            LogOcspUnavailable(logger, responder, ex.Message);
            return (null, "unavailable: " + ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "OCSP responder {Responder} unavailable ({Reason}); the CRLs on file answer")]
    private static partial void LogOcspUnavailable(ILogger logger, Uri responder, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OCSP response from {Responder} refused: {Problem}; the CRLs on file answer")]
    private static partial void LogOcspRefused(ILogger logger, Uri responder, string problem);
}
