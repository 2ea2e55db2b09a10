using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>
/// What the posting of an order did: the ledger's answer and the commission it carried; for a conversion, its two
/// sides and rate. <see cref="Result"/> is null when the order was refused before the ledger (<see cref="Refusal"/>).
/// </summary>
public sealed record DocumentPosted(PostingResult? Result, decimal Commission, string TransactionId)
{
    /// <summary>A refusal decided before any posting, such as <c>rate_unavailable</c>.</summary>
    public string? Refusal { get; init; }

    public ConversionSummary? Conversion { get; init; }
}

/// <summary>
/// An order's posting: one balanced ledger transaction whose id is the document's, so a repeated step posts once (W2).
/// A payment order debits the payer for the amount and the commission per tariffs and credits the beneficiary (at this
/// bank) or the interbank settlement account; a conversion order debits one of the customer's accounts and credits
/// another in a second currency, through the bank's position account of each currency, at the bank's rates of the
/// operation date, with the conversion commission per tariffs. Commissions go to income in their currency.
/// </summary>
public sealed class DocumentPosting(TariffStore tariffs, Ledger ledger, ExchangeRateStore rates, CustomerStore customers, IOptions<BankOptions> options)
{
    /// <summary>The payment purpose code (КНП) of a commission the bank takes for its services.</summary>
    public const string CommissionPurposeCode = Accounts.Statements.KnownPurposeCodes.BankCommission;

    public static string TransactionId(string documentId) => "doc:" + documentId;

    public async Task<DocumentPosted> PostAsync(Document document, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        return document.Type == ConversionOrder.Type
            ? await ConvertAsync(document, now, cancellationToken)
            : await PayAsync(document, now, cancellationToken);
    }

    private async Task<DocumentPosted> PayAsync(Document document, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var summary = document.Summary!;
        var currency = Enum.Parse<Currency>(summary.Currency);
        var schedule = await tariffs.GetAsync(cancellationToken);
        var commission = Commissions.Compute(Commissions.Find(schedule.Tariffs, PaymentOrder.Type, currency, summary.Route), summary.Amount, currency);
        var payer = LedgerAccountId.ForIban(Iban.Parse(summary.PayerIban));
        var beneficiary = summary.Route == PaymentRoutes.Internal
            ? LedgerAccountId.ForIban(Iban.Parse(summary.BeneficiaryIban))
            : LedgerAccountId.ForBank(BankAccount.InterbankSettlement, currency);
        var bank = options.Value;

        // The beneficiary's statement names the payer as the bank knows it when the order does not name it.
        var owner = summary.PayerName is null || summary.PayerIdn is null ? await customers.GetCachedAsync(document.CustomerId, cancellationToken) : null;
        var legs = new List<LedgerLeg>
        {
            new(payer, -summary.Amount, currency)
            {
                Counterparty = new Counterparty(summary.BeneficiaryName, summary.BeneficiaryIban, summary.BeneficiaryIdn, summary.BeneficiaryBic),
                Purpose = summary.Purpose,
                DocumentId = document.DocumentId,
                PurposeCode = summary.PurposeCode,
                DocumentNumber = summary.Number,
            },
            new(beneficiary, summary.Amount, currency)
            {
                Counterparty = new Counterparty(summary.PayerName ?? owner?.Name, summary.PayerIban, summary.PayerIdn ?? owner?.Bin, bank.Bic),
                Purpose = summary.Purpose,
                DocumentId = document.DocumentId,
                PurposeCode = summary.PurposeCode,
                DocumentNumber = summary.Number,
            },
        };
        AddCommission(legs, payer, commission, currency, document, "Комиссия за платёжное поручение № " + summary.Number);
        var transaction = new LedgerTransaction(TransactionId(document.DocumentId), "payment", legs)
        {
            Reference = "№ " + summary.Number,
            ValueDate = KazakhstanTime.LocalDate(now),
        };
        var result = await ledger.PostAsync(transaction, cancellationToken);
        return new DocumentPosted(result, commission, transaction.Id);
    }

    /// <summary>
    /// A conversion at the rates of the operation date: the local day of execution, which is an operational day (an order
    /// that waited over a weekend uses Monday's rates). No rates for that date refuses it (<c>rate_unavailable</c>); the
    /// rate version used is recorded with the document and the transaction.
    /// </summary>
    private async Task<DocumentPosted> ConvertAsync(Document document, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var summary = document.Summary!;
        var sides = summary.Conversion!;
        var (debitCurrency, creditCurrency) = (Enum.Parse<Currency>(sides.DebitCurrency), Enum.Parse<Currency>(sides.CreditCurrency));
        var operationDate = KazakhstanTime.LocalDate(now);
        var id = TransactionId(document.DocumentId);
        var debitAccount = LedgerAccountId.ForIban(Iban.Parse(summary.PayerIban));
        var sheet = await rates.GetAsync(operationDate, cancellationToken);
        var quote = sheet is null ? null
            : Conversion.Quote(sheet, debitCurrency, creditCurrency, new Money(summary.Amount, Enum.Parse<Currency>(summary.Currency)));
        if (quote is null)
        {
            // A step repeated on a later day may find no rates for it: what an earlier attempt posted still stands.
            return await PostedBeforeAsync(debitAccount, id, sides, cancellationToken)
                ?? new DocumentPosted(null, 0m, id) { Refusal = RefusalReasons.RateUnavailable };
        }

        var schedule = await tariffs.GetAsync(cancellationToken);
        var commission = Commissions.Compute(Commissions.Find(schedule.Tariffs, ConversionOrder.Type, debitCurrency, PaymentRoutes.Internal),
            quote.Debit.Amount, debitCurrency);
        var bank = options.Value;
        var creditAccount = LedgerAccountId.ForIban(Iban.Parse(summary.BeneficiaryIban));
        LedgerLeg Leg(LedgerAccountId account, decimal amount, Currency currency, Counterparty? counterparty) => new(account, amount, currency)
        {
            Counterparty = counterparty,
            Purpose = summary.Purpose,
            DocumentId = document.DocumentId,
            PurposeCode = summary.PurposeCode,
            DocumentNumber = summary.Number,
        };
        var legs = new List<LedgerLeg>
        {
            Leg(debitAccount, -quote.Debit.Amount, debitCurrency, new Counterparty(summary.PayerName, summary.BeneficiaryIban, summary.PayerIdn, bank.Bic)),
            Leg(LedgerAccountId.ForBank(BankAccount.CurrencyPosition, debitCurrency), quote.Debit.Amount, debitCurrency, null),
            Leg(LedgerAccountId.ForBank(BankAccount.CurrencyPosition, creditCurrency), -quote.Credit.Amount, creditCurrency, null),
            Leg(creditAccount, quote.Credit.Amount, creditCurrency, new Counterparty(summary.PayerName, summary.PayerIban, summary.PayerIdn, bank.Bic)),
        };
        AddCommission(legs, debitAccount, commission, debitCurrency, document, "Комиссия за конвертацию по заявлению № " + summary.Number);
        var rate = Math.Round(quote.Rate, 6, MidpointRounding.AwayFromZero);
        var transaction = new LedgerTransaction(id, "conversion", legs)
        {
            Reference = "№ " + summary.Number,
            ValueDate = operationDate,
            Exchange = new AppliedRate(debitCurrency, creditCurrency, rate, quote.RateDate, quote.RateVersion),
        };
        var result = await ledger.PostAsync(transaction, cancellationToken);
        if (result.Outcome == PostingOutcome.AlreadyPosted && await PostedBeforeAsync(debitAccount, id, sides, cancellationToken) is { } before)
        {
            return before; // a repeated step: the first posting stands, whatever rates were published since
        }

        var conversion = sides with
        {
            DebitAmount = quote.Debit.Amount,
            CreditAmount = quote.Credit.Amount,
            Rate = rate,
            RateDate = quote.RateDate,
            RateVersion = quote.RateVersion,
        };
        return new DocumentPosted(result, commission, id) { Conversion = conversion };
    }

    /// <summary>A conversion an earlier attempt of the step posted, answered as it was made; null when there is none.</summary>
    private async Task<DocumentPosted?> PostedBeforeAsync(LedgerAccountId debitAccount, string id, ConversionSummary sides, CancellationToken cancellationToken)
    {
        if (await ledger.GetTransactionAsync(debitAccount, id, cancellationToken) is not { } posted)
        {
            return null;
        }

        var (done, fee) = Recorded(posted.Transaction, debitAccount, sides);
        return new DocumentPosted(new PostingResult(PostingOutcome.AlreadyPosted, id) { PostedAt = posted.PostedAt }, fee, id) { Conversion = done };
    }

    /// <summary>The sides, rate and commission of a conversion as its transaction recorded them.</summary>
    private static (ConversionSummary Sides, decimal Commission) Recorded(LedgerTransaction transaction, LedgerAccountId debitAccount, ConversionSummary sides)
    {
        var debits = transaction.Legs.Where(l => l.Account == debitAccount).Select(l => -l.Amount).ToList();
        var credit = transaction.Legs.First(l => !l.Account.IsBank && l.Account != debitAccount).Amount;
        var rate = transaction.Exchange;
        return (sides with { DebitAmount = debits[0], CreditAmount = credit, Rate = rate?.Rate, RateDate = rate?.Date, RateVersion = rate?.Version }, debits.Skip(1).Sum());
    }

    private void AddCommission(List<LedgerLeg> legs, LedgerAccountId payer, decimal commission, Currency currency, Document document, string purpose)
    {
        if (commission <= 0)
        {
            return;
        }

        var bank = options.Value;
        legs.Add(new LedgerLeg(payer, -commission, currency)
        {
            Counterparty = new Counterparty(bank.Name, null, null, bank.Bic),
            Purpose = purpose,
            DocumentId = document.DocumentId,
            PurposeCode = CommissionPurposeCode,
            DocumentNumber = document.Summary!.Number,
        });
        legs.Add(new LedgerLeg(LedgerAccountId.ForBank(BankAccount.CommissionIncome, currency), commission, currency) { DocumentId = document.DocumentId });
    }
}
