using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Timers;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents.Signatures;

/// <summary>
/// Keeps the CRLs of <see cref="SignatureOptions.CrlUrls"/> (NCA RK's base and delta CRLs) current: every run, a URL
/// whose CRL on file has used up <see cref="SignatureOptions.CrlRefreshAt"/> of its validity (or that was never
/// fetched by this process) is fetched, checked against its issuer and stored when newer — a base beside its
/// delta, never in its place (<see cref="TrustStore.AddCrlAsync(CrlInfo, CancellationToken)"/>). A failed fetch is retried at the next run; the
/// CRL on file stays in force until its next update. Every CRL in force is then measured: hours left before its
/// next update (metric <c>signatures.crl.hours_left</c>), and one with fewer than
/// <see cref="SignatureOptions.CrlStaleWarningHours"/> left raises an operator alert (journal
/// <c>signatures.crl_expiring</c>, an error log, and <c>status</c> on <c>GET /ops/trust-anchors</c>) before documents
/// start to be refused <c>revocation_unknown</c>.
/// </summary>
public sealed partial class CrlRefreshJob(
    TrustStore trust, PkiHttp http, AuditJournal audit, IOptions<SignatureOptions> options, TimeProvider time, ILogger<CrlRefreshJob> logger) : IScheduledJob
{
    private static readonly Meter Meter = new(RevocationChecker.MeterName);
    private static readonly ConcurrentDictionary<string, double> HoursLeft = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _nextFetch = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _alerted = new(StringComparer.Ordinal);

    static CrlRefreshJob() => Meter.CreateObservableGauge("signatures.crl.hours_left",
        () => HoursLeft.Select(h => new Measurement<double>(h.Value, new KeyValuePair<string, object?>("crl", h.Key))),
        description: "Hours before the next update of each CRL in force (negative: stale)");

    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:crl-refresh:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "crl-refresh";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "0 */10 * * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        foreach (var url in settings.CrlUrls.Where(u => !string.IsNullOrWhiteSpace(u)))
        {
            if (_nextFetch.TryGetValue(url, out var due) && due > time.GetUtcNow())
            {
                continue;
            }

            await FetchAsync(new Uri(url), settings, cancellationToken);
        }

        await MeasureAsync(settings, cancellationToken);
    }

    /// <summary>Fetches one CRL and stores it when newer than the one of its kind on file; when to fetch it again.</summary>
    private async Task FetchAsync(Uri url, SignatureOptions settings, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        byte[] data;
        try
        {
            data = await http.GetCrlAsync(url, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            LogFetchFailed(logger, url, ex.Message);
            return; // the next run tries again
        }

        var material = await trust.GetAsync(cancellationToken);
        if (!material.TryLoadCrl(data, out var fetched, out var problem))
        {
            LogRefused(logger, url, problem);
            return;
        }

        var (knownBase, knownDelta) = material.CrlsOf(fetched.IssuerThumbprint);
        var known = fetched.IsDelta ? knownDelta : knownBase;
        if (known is null || fetched.ThisUpdate > known.ThisUpdate)
        {
            var (stored, refused) = await trust.AddCrlAsync(fetched, cancellationToken); // checked above: not parsed and verified again
            if (stored is null)
            {
                LogRefused(logger, url, refused!);
                return;
            }

            await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, "system", "signatures.crl_refreshed", AuditOutcome.Success)
            {
                Target = "crls/" + stored.IssuerThumbprint + (stored.IsDelta ? "/delta" : ""),
                Details = new Dictionary<string, string>
                {
                    ["url"] = url.ToString(),
                    ["issuer"] = stored.Issuer,
                    ["number"] = stored.Number ?? "",
                    ["thisUpdate"] = stored.ThisUpdate.ToString("O", CultureInfo.InvariantCulture),
                    ["nextUpdate"] = stored.NextUpdate?.ToString("O", CultureInfo.InvariantCulture) ?? "",
                    ["revoked"] = stored.Revoked.Count.ToString(CultureInfo.InvariantCulture),
                },
            }, cancellationToken);
            LogRefreshed(logger, url, stored.Issuer, stored.IsDelta, stored.ThisUpdate, stored.NextUpdate);
        }

        // The CRL now on file decides when to look again: part way to its next update, never later than that.
        var current = known is not null && known.ThisUpdate >= fetched.ThisUpdate ? known : fetched;
        // Stale or without a next update: at the next run.
        _nextFetch[url.ToString()] = current.NextUpdate is { } next && next > now ? current.ThisUpdate + ((next - current.ThisUpdate) * settings.CrlRefreshAt) : now;
    }

    private async Task MeasureAsync(SignatureOptions settings, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var material = await trust.GetAsync(cancellationToken);
        HoursLeft.Clear();
        foreach (var crl in material.Crls)
        {
            if (crl.NextUpdate is not { } next)
            {
                continue;
            }

            var name = crl.Issuer + (crl.IsDelta ? " (delta)" : "");
            var left = next - now;
            HoursLeft[name] = Math.Round(left.TotalHours, 2);
            var key = crl.IssuerThumbprint + "|" + crl.IsDelta + "|" + crl.ThisUpdate.ToUnixTimeSeconds();
            if (left < TimeSpan.FromHours(settings.CrlStaleWarningHours) && _alerted.TryAdd(key, 0))
            {
                LogExpiring(logger, name, next, left.TotalHours);
                await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, "system", "signatures.crl_expiring", AuditOutcome.Failed)
                {
                    Target = "crls/" + crl.IssuerThumbprint + (crl.IsDelta ? "/delta" : ""),
                    Details = new Dictionary<string, string>
                    {
                        ["issuer"] = crl.Issuer,
                        ["nextUpdate"] = next.ToString("O", CultureInfo.InvariantCulture),
                        ["hoursLeft"] = left.TotalHours.ToString("0.0", CultureInfo.InvariantCulture),
                    },
                }, cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "CRL {Url} could not be fetched ({Reason}); the next run tries again")]
    private static partial void LogFetchFailed(ILogger logger, Uri url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CRL {Url} refused: {Problem}")]
    private static partial void LogRefused(ILogger logger, Uri url, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "CRL {Url} of {Issuer} (delta: {Delta}) refreshed: this update {ThisUpdate:O}, next {NextUpdate:O}")]
    private static partial void LogRefreshed(ILogger logger, Uri url, string issuer, bool delta, DateTimeOffset thisUpdate, DateTimeOffset? nextUpdate);

    [LoggerMessage(Level = LogLevel.Error, Message = "CRL of {Crl} is about to go stale: next update {NextUpdate:O}, {HoursLeft:0.0} h left; documents will be refused revocation_unknown after it unless OCSP answers")]
    private static partial void LogExpiring(ILogger logger, string crl, DateTimeOffset nextUpdate, double hoursLeft);
}
