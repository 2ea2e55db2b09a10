using System.Globalization;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Platform;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Accounts;

public static class ExchangeRateProblems
{
    /// <summary>No rates were published for the date: nothing is converted at a guessed rate.</summary>
    public static readonly ProblemType RateUnavailable = new("rate_unavailable", StatusCodes.Status404NotFound);
}

/// <summary>
/// The bank's exchange rates (R-34, clause 3.12): <c>PUT /ops/exchange-rates/{date}</c> publishes a new version of a
/// date's rates (journaled with the version it supersedes), <c>GET /exchange-rates?date=</c> lets clients read them.
/// </summary>
public static class ExchangeRateEndpoints
{
    public static async Task<Results<Ok<RateSheetResponse>, ProblemResult>> GetAsync(
        DateOnly? date, ExchangeRateStore rates, TimeProvider time, CancellationToken cancellationToken)
    {
        var day = date ?? KazakhstanTime.LocalDate(time.GetUtcNow());
        return await rates.GetAsync(day, cancellationToken) is { } sheet
            ? TypedResults.Ok(RateSheetResponse.Of(sheet))
            : ProblemResult.For(ExchangeRateProblems.RateUnavailable, day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    public static async Task<Results<Ok<RateVersionsResponse>, ProblemResult>> ListVersionsAsync(
        DateOnly date, ExchangeRateStore rates, CancellationToken cancellationToken)
    {
        var versions = await rates.ListVersionsAsync(date, cancellationToken);
        return versions.Count > 0
            ? TypedResults.Ok(new RateVersionsResponse(date, versions))
            : ProblemResult.For(ExchangeRateProblems.RateUnavailable, date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
    }

    public static async Task<Results<Ok<RateSheetResponse>, ProblemResult>> PublishAsync(
        DateOnly date, PublishRatesRequest request, HttpContext context, ExchangeRateStore rates, AuditJournal audit, TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var list = request.Rates!.Select(r => new ExchangeRate(Enum.Parse<Currency>(r!.Currency!), r.Buy!.Value, r.Sell!.Value)).ToList();
        var actor = context.User.Actor();
        var (sheet, superseded) = await rates.PublishAsync(date, list, actor, time.GetUtcNow(), cancellationToken);
        var details = new Dictionary<string, string>
        {
            ["date"] = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["version"] = sheet.Version.ToString(CultureInfo.InvariantCulture),
            ["rates"] = JsonSerializer.Serialize(sheet.Rates, PlatformExtensions.JsonOptions),
        };
        if (superseded is not null)
        {
            // A correction: the journal shows what it replaced, beside what it is.
            details["supersedes"] = superseded.Version.ToString(CultureInfo.InvariantCulture);
            details["previousRates"] = JsonSerializer.Serialize(superseded.Rates, PlatformExtensions.JsonOptions);
        }

        await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, actor,
            superseded is null ? "exchange_rates.published" : "exchange_rates.corrected", AuditOutcome.Success)
        {
            Target = "exchange-rates/" + details["date"],
            CorrelationId = context.TraceIdentifier,
            Details = details,
        }, cancellationToken);
        return TypedResults.Ok(RateSheetResponse.Of(sheet));
    }
}
