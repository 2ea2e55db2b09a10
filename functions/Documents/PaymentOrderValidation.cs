using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Platform.Caching;
using BusinessApi.Platform.Http;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>
/// The rules of form of a payment order with what only the bank knows: the payer account is the
/// customer's and its currency, and a beneficiary at this bank holds an open account in the order's currency.
/// </summary>
public sealed class PaymentOrderValidation(
    Ledger ledger, PurposeCodes purposeCodes, IOptions<PaymentOptions> payments, IOptions<BankOptions> options, IOptions<Platform.Sandbox.SandboxOptions> sandbox,
    ExchangeRateStore rates, TimeProvider time)
{
    // What never changes about an account once opened: its owner, currency and kind. Safe across instances:
    // each reads it from the ledger once; an account not found is not remembered (it may be opened later).
    private readonly BoundedCache<LedgerAccountId, AccountFacts> _accounts = new(time, capacity: 100_000, timeToLive: TimeSpan.FromDays(1));

    private sealed record AccountFacts(string? CustomerId, Currency Currency, LedgerAccountKind Kind);

    public async Task<(ISignedOrder? Order, IReadOnlyList<FieldError> Errors)> ValidateAsync(
        Document document, byte[] content, Customers.Customer? owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var bank = options.Value;
        var preview = SignedOrders.Preview(content);
        var accounts = new Dictionary<string, Currency>(StringComparer.Ordinal);
        foreach (var iban in preview.Accounts)
        {
            if (await FactsAsync(LedgerAccountId.ForIban(iban), cancellationToken) is { } account && account.CustomerId == document.CustomerId)
            {
                accounts[iban.Value] = account.Currency; // a closed or restricted account is refused by the ledger at posting
            }
        }

        // Currency control judges amounts in USD: the rates of the receipt date are read only for an order that may need them.
        var receiptDate = KazakhstanTime.LocalDate(document.ReceivedAt);
        var sheet = preview.MayNeedRates ? await rates.GetAsync(receiptDate, cancellationToken) : null;
        var control = payments.Value.CurrencyControl;
        var context = new PaymentOrderContext(receiptDate, document.OperationalDate, bank.IbanCode, bank.Bic,
            accounts, purposeCodes, payments.Value.MaxDocumentAgeDays)
        {
            UsdEquivalent = sheet is null ? null : (amount, currency) => Conversion.MidEquivalent(sheet, new Money(amount, currency), Currency.USD),
            ContractFromUsd = control.ContractFromUsd,
            RegistrationFromUsd = control.RegistrationFromUsd,
            PayerIdn = owner?.Bin,
            OwnerName = owner?.Name,
            AcceptTestIdentifiers = sandbox.Value.AcceptTestIdentifiers,
        };
        var (signed, errors) = SignedOrders.Validate(content, preview.Type, context);
        if (signed is not PaymentOrder order || !order.IsInternal(bank.IbanCode))
        {
            return (signed, errors);
        }

        // A beneficiary at this bank must hold an open account in the document's currency.
        var beneficiary = await FactsAsync(LedgerAccountId.ForIban(order.BeneficiaryIban), cancellationToken);
        var problem = beneficiary is null || beneficiary.Kind != LedgerAccountKind.Customer ? "beneficiary_account_unknown"
            : beneficiary.Currency != order.Currency ? "beneficiary_currency_mismatch"
            : null;
        return problem is null ? (order, []) : (null, [new FieldError("beneficiary.iban", problem)]);
    }

    private async Task<AccountFacts?> FactsAsync(LedgerAccountId id, CancellationToken cancellationToken)
    {
        if (_accounts.TryGet(id, out var known))
        {
            return known;
        }

        if ((await ledger.GetAccountViewAsync(id, cancellationToken))?.State is not { } state)
        {
            return null; // not remembered: it may be opened later
        }

        var facts = new AccountFacts(state.CustomerId, state.Currency, state.Kind);
        _accounts.Set(id, facts);
        return facts;
    }
}
