using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using BusinessApi.Accounts;
using BusinessApi.Platform;
using BusinessApi.Platform.Caching;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>
/// The bank's commission for one kind of document (R-40, clause 3.9): by document type, currency and route
/// (internal: the beneficiary is at this bank; interbank: elsewhere). A conversion order's commission is the
/// <c>conversionOrder</c> tariff of the debited currency, route <c>internal</c>, on the debited amount. A fixed part plus a percentage of
/// the amount, kept between an optional minimum and maximum, rounded to the currency's minor unit.
/// </summary>
public sealed record Tariff(string DocumentType, string Currency, string Route, decimal Fixed, decimal Percent)
{
    public decimal? Min { get; init; }

    public decimal? Max { get; init; }
}

public static class Commissions
{
    /// <summary>The commission on <paramref name="amount"/> (0 without a tariff): fixed + percent, clamped to [min, max], rounded half away from zero.</summary>
    public static decimal Compute(Tariff? tariff, decimal amount, Currency currency)
    {
        if (tariff is null)
        {
            return 0m;
        }

        var raw = tariff.Fixed + (amount * tariff.Percent / 100m);
        if (tariff.Min is { } min && raw < min)
        {
            raw = min;
        }

        if (tariff.Max is { } max && raw > max)
        {
            raw = max;
        }

        return Money.Round(raw, currency).Amount;
    }

    public static Tariff? Find(IReadOnlyList<Tariff> tariffs, string documentType, Currency currency, string route)
    {
        ArgumentNullException.ThrowIfNull(tariffs);
        return tariffs.FirstOrDefault(t => t.DocumentType == documentType && t.Currency == currency.ToString() && t.Route == route);
    }

    /// <summary>Every broken rule of a tariff schedule, by field.</summary>
    public static void Validate(IReadOnlyList<Tariff>? tariffs, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (tariffs is null)
        {
            errors.Add("tariffs", "required");
            return;
        }

        var seen = new HashSet<(string, string, string)>();
        for (var i = 0; i < tariffs.Count; i++)
        {
            var t = tariffs[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"tariffs[{i}]");
            if (t is null)
            {
                errors.Add(at, "required");
                continue;
            }

            if (t.DocumentType is not (PaymentOrder.Type or ConversionOrder.Type))
            {
                errors.Add(at + ".documentType", "unsupported_document_type", PaymentOrder.Type + ", " + ConversionOrder.Type);
            }
            else if (t.DocumentType == ConversionOrder.Type && t.Route != PaymentRoutes.Internal)
            {
                // A conversion stays inside the bank: its commission is in the debited currency, on the debited amount.
                errors.Add(at + ".route", "route_unknown");
            }

            if (!Currencies.TryParse(t.Currency, out var currency))
            {
                errors.Add(at + ".currency", "currency_unknown");
            }
            else
            {
                foreach (var (name, value) in new[] { ("fixed", (decimal?)t.Fixed), ("min", t.Min), ("max", t.Max) })
                {
                    if (value is { } v && (v < 0 || !Money.HasValidScale(v, currency)))
                    {
                        errors.Add($"{at}.{name}", "tariff_amount_invalid", currency.MinorUnits());
                    }
                }
            }

            if (t.Route is not (PaymentRoutes.Internal or PaymentRoutes.Interbank))
            {
                errors.Add(at + ".route", "route_unknown");
            }

            if (t.Percent is < 0 or > 100 || decimal.Round(t.Percent, 4) != t.Percent)
            {
                errors.Add(at + ".percent", "percent_invalid");
            }

            if (t.Min is { } min && t.Max is { } max && min > max)
            {
                errors.Add(at + ".max", "max_below_min");
            }

            if (!seen.Add((t.DocumentType, t.Currency, t.Route)))
            {
                errors.Add(at, "tariff_duplicate");
            }
        }
    }
}

/// <summary>
/// The tariff schedule in force: the one published through <c>PUT /ops/tariffs</c> (table <c>Tariffs</c>),
/// else the defaults in configuration (<c>Payments:Tariffs</c>). Cached for 30 s per process; a PUT in
/// this process takes effect at once.
/// </summary>
public sealed class TariffStore(StorageResources storage, IOptions<PaymentOptions> options, TimeProvider time)
{
    public const string TableName = "Tariffs";
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    private readonly TableClient _table = storage.Table(TableName);
    // Safe across instances: another instance's new tariffs apply here within CacheFor; this instance's at once.
    private readonly BoundedCache<string, TariffSchedule> _cached = new(time, capacity: 1, CacheFor);

    public async ValueTask<TariffSchedule> GetAsync(CancellationToken cancellationToken)
    {
        if (_cached.TryGet(TableName, out var cached))
        {
            return cached;
        }

        var row = await _table.GetEntityIfExistsAsync<TableEntity>("tariffs", "current", cancellationToken: cancellationToken);
        var schedule = row.HasValue
            ? new TariffSchedule(JsonSerializer.Deserialize<List<Tariff>>(row.Value!.GetString("Json"), PlatformExtensions.JsonOptions)!, row.Value.GetDateTimeOffset("UpdatedAt"), row.Value.GetString("UpdatedBy"))
            {
                ApiSupportFee = row.Value.GetString("ApiSupportFee") is { } fee ? JsonSerializer.Deserialize<PeriodicFee>(fee, PlatformExtensions.JsonOptions) : null,
            }
            : new TariffSchedule(options.Value.Tariffs, null, null) { ApiSupportFee = options.Value.ApiSupportFee };
        _cached.Set(TableName, schedule);
        return schedule;
    }

    public async Task<TariffSchedule> PutAsync(IReadOnlyList<Tariff> tariffs, PeriodicFee? apiSupportFee, string by, CancellationToken cancellationToken)
    {
        var schedule = new TariffSchedule(tariffs, time.GetUtcNow(), by) { ApiSupportFee = apiSupportFee };
        await _table.UpsertEntityAsync(new TableEntity("tariffs", "current")
        {
            ["Json"] = JsonSerializer.Serialize(tariffs, PlatformExtensions.JsonOptions),
            ["ApiSupportFee"] = apiSupportFee is null ? null : JsonSerializer.Serialize(apiSupportFee, PlatformExtensions.JsonOptions),
            ["UpdatedAt"] = schedule.UpdatedAt,
            ["UpdatedBy"] = by,
        }, TableUpdateMode.Replace, cancellationToken);
        _cached.Set(TableName, schedule);
        return schedule;
    }
}

public sealed record TariffSchedule(IReadOnlyList<Tariff> Tariffs, DateTimeOffset? UpdatedAt, string? UpdatedBy)
{
    /// <summary>The monthly fee for the technical support of the API (clause 3.9), when the tariffs set one.</summary>
    public PeriodicFee? ApiSupportFee { get; init; }
}

/// <summary>A fee charged once per calendar month (local), in the currency of the accounts it is debited from.</summary>
public sealed record PeriodicFee(
    [property: System.Text.Json.Serialization.JsonNumberHandling(System.Text.Json.Serialization.JsonNumberHandling.AllowReadingFromString)] decimal Amount,
    string Currency)
{
    public static void Validate(PeriodicFee? fee, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (fee is null)
        {
            return;
        }

        if (!Currencies.TryParse(fee.Currency, out var currency))
        {
            errors.Add("apiSupportFee.currency", "currency_unknown");
        }
        else if (fee.Amount <= 0 || !Money.HasValidScale(fee.Amount, currency))
        {
            errors.Add("apiSupportFee.amount", "tariff_amount_invalid", currency.MinorUnits());
        }
    }
}
