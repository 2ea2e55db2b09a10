using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Accounts;

/// <summary>The bank's rates for one currency against the tenge: it buys at <see cref="Buy"/> and sells at <see cref="Sell"/> (KZT per unit).</summary>
public sealed record ExchangeRate(Currency Currency, decimal Buy, decimal Sell);

/// <summary>
/// One published version of a date's rates (R-34). Versions are never changed: a correction is a new version,
/// and an operation names the version it used, so what a date's rates were for an executed conversion stays
/// exactly as it was.
/// </summary>
public sealed record RateSheet(DateOnly Date, int Version, IReadOnlyList<ExchangeRate> Rates, DateTimeOffset PublishedAt, string PublishedBy)
{
    public ExchangeRate? For(Currency currency) => Rates.FirstOrDefault(r => r.Currency == currency);
}

/// <summary>What a conversion came to: both amounts, the rate applied (credit units per debit unit) and the sheet it came from.</summary>
public sealed record ConversionQuote(Money Debit, Money Credit, decimal Rate, DateOnly RateDate, int RateVersion);

/// <summary>
/// Conversion at the bank's rates. The one rounding rule of money in this API: a computed amount is rounded to the
/// minor unit of its currency, half away from zero (<see cref="Money.Round"/>). The tenge is the pivot: the bank buys
/// the debited currency at its <c>buy</c> rate and sells the credited one at its <c>sell</c> rate (the tenge's rate is 1
/// both ways), so a cross conversion (USD→EUR) is <c>amount × buy(USD) / sell(EUR)</c>, computed exactly in
/// <see cref="decimal"/> and rounded once.
/// </summary>
public static class Conversion
{
    public static ConversionQuote? Quote(RateSheet sheet, Currency debit, Currency credit, Money fixedAmount)
    {
        ArgumentNullException.ThrowIfNull(sheet);
        if (debit == credit || (fixedAmount.Currency != debit && fixedAmount.Currency != credit))
        {
            throw new ArgumentException("A conversion is between two currencies, with the amount fixed on one side.", nameof(fixedAmount));
        }

        if (BuyOf(sheet, debit) is not { } buy || SellOf(sheet, credit) is not { } sell)
        {
            return null;
        }

        var rate = buy / sell;
        return fixedAmount.Currency == debit
            ? new ConversionQuote(fixedAmount, Money.Round(fixedAmount.Amount * buy / sell, credit), rate, sheet.Date, sheet.Version)
            : new ConversionQuote(Money.Round(fixedAmount.Amount * sell / buy, debit), fixedAmount, rate, sheet.Date, sheet.Version);
    }

    /// <summary>The tenge-equivalent of <paramref name="amount"/> at the midpoint of the bank's rates (for thresholds, not for money moved); null without a rate.</summary>
    public static decimal? MidEquivalent(RateSheet sheet, Money amount, Currency target)
    {
        ArgumentNullException.ThrowIfNull(sheet);
        decimal? Mid(Currency c) => c == Currency.KZT ? 1m : sheet.For(c) is { } r ? (r.Buy + r.Sell) / 2m : null;
        return Mid(amount.Currency) is { } from && Mid(target) is { } to ? amount.Amount * from / to : null;
    }

    private static decimal? BuyOf(RateSheet sheet, Currency currency) => currency == Currency.KZT ? 1m : sheet.For(currency)?.Buy;

    private static decimal? SellOf(RateSheet sheet, Currency currency) => currency == Currency.KZT ? 1m : sheet.For(currency)?.Sell;
}

/// <summary>
/// The rates the bank publishes per date (table <c>ExchangeRates</c>): partition the date, one row per version
/// (<c>v000001</c>…), each added once and never replaced. The date's rates are its newest version.
/// </summary>
public sealed class ExchangeRateStore(StorageResources storage)
{
    public const string TableName = "ExchangeRates";

    /// <summary>Rates carry at most this many decimal places (KZT per unit).</summary>
    public const int RateDecimals = 4;

    private readonly TableClient _table = storage.Table(TableName);

    /// <summary>The newest version of <paramref name="date"/>'s rates, or null when none was published.</summary>
    public async Task<RateSheet?> GetAsync(DateOnly date, CancellationToken cancellationToken)
    {
        var versions = await ListVersionsAsync(date, cancellationToken); // rows sort by version
        return versions.Count > 0 ? versions[^1] : null;
    }

    /// <summary>Every version of <paramref name="date"/>'s rates, oldest first.</summary>
    public async Task<IReadOnlyList<RateSheet>> ListVersionsAsync(DateOnly date, CancellationToken cancellationToken)
    {
        var list = new List<RateSheet>();
        await foreach (var row in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Key(date)}"), cancellationToken: cancellationToken))
        {
            list.Add(ToSheet(row));
        }

        return list;
    }

    /// <summary>Publishes a new version of the date's rates (the previous versions stay as they were); answers it and the one it supersedes.</summary>
    public async Task<(RateSheet Published, RateSheet? Superseded)> PublishAsync(
        DateOnly date, IReadOnlyList<ExchangeRate> rates, string by, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetAsync(date, cancellationToken);
            var sheet = new RateSheet(date, (current?.Version ?? 0) + 1, [.. rates.OrderBy(r => r.Currency)], now, by);
            try
            {
                await _table.AddEntityAsync(new TableEntity(Key(date), string.Create(CultureInfo.InvariantCulture, $"v{sheet.Version:D6}"))
                {
                    ["Json"] = JsonSerializer.Serialize(sheet, PlatformExtensions.JsonOptions),
                }, cancellationToken);
                return (sheet, current);
            }
            catch (RequestFailedException ex) when (ex.Status == 409 && attempt < 10)
            {
                // Another publication took this version number first: ours becomes the next one.
            }
        }
    }

    /// <summary>Every broken rule of a rate list, by field.</summary>
    public static void Validate(IReadOnlyList<RateInput?>? rates, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (rates is null || rates.Count == 0)
        {
            errors.Add("rates", "required");
            return;
        }

        var seen = new HashSet<Currency>();
        for (var i = 0; i < rates.Count; i++)
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"rates[{i}]");
            if (rates[i] is not { } rate)
            {
                errors.Add(at, "required");
                continue;
            }

            if (!Currencies.TryParse(rate.Currency, out var currency) || currency == Currency.KZT)
            {
                errors.Add(at + ".currency", "rate_currency_invalid");
            }
            else if (!seen.Add(currency))
            {
                errors.Add(at + ".currency", "rate_duplicate");
            }

            foreach (var (name, value) in new[] { ("buy", rate.Buy), ("sell", rate.Sell) })
            {
                if (value is not { } v || v <= 0 || v > 1_000_000m || decimal.Round(v, RateDecimals) != v)
                {
                    errors.Add($"{at}.{name}", "rate_invalid", RateDecimals);
                }
            }

            if (rate.Buy is { } buy && rate.Sell is { } sell && buy > sell)
            {
                errors.Add(at + ".buy", "rate_buy_above_sell");
            }
        }
    }

    private static string Key(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static RateSheet ToSheet(TableEntity row) => JsonSerializer.Deserialize<RateSheet>(row.GetString("Json")!, PlatformExtensions.JsonOptions)!;
}

/// <summary>One currency's rates as an operator publishes them.</summary>
public sealed record RateInput(
    string? Currency,
    [property: System.Text.Json.Serialization.JsonNumberHandling(System.Text.Json.Serialization.JsonNumberHandling.AllowReadingFromString)] decimal? Buy,
    [property: System.Text.Json.Serialization.JsonNumberHandling(System.Text.Json.Serialization.JsonNumberHandling.AllowReadingFromString)] decimal? Sell);

/// <param name="Rates">Buy and sell per currency, KZT per unit, at most 4 decimal places; the buy rate is not above the sell rate.</param>
public sealed record PublishRatesRequest(IReadOnlyList<RateInput?>? Rates) : IValidatable
{
    public void Validate(ValidationErrors errors) => ExchangeRateStore.Validate(Rates, errors);
}

/// <summary>A date's rates as clients read them.</summary>
public sealed record RateSheetResponse(DateOnly Date, int Version, DateTimeOffset PublishedAt, IReadOnlyList<RateResponse> Rates)
{
    public static RateSheetResponse Of(RateSheet sheet)
    {
        ArgumentNullException.ThrowIfNull(sheet);
        return new(sheet.Date, sheet.Version, sheet.PublishedAt, [.. sheet.Rates.Select(r => new RateResponse(r.Currency, Text(r.Buy), Text(r.Sell)))]);
    }

    private static string Text(decimal rate) => rate.ToString("0.00##", CultureInfo.InvariantCulture);
}

public sealed record RateResponse(Currency Currency, string Buy, string Sell);

/// <summary>Every version of a date's rates, for operators: what each conversion of that date could have used.</summary>
public sealed record RateVersionsResponse(DateOnly Date, IReadOnlyList<RateSheet> Versions);
