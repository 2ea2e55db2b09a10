using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>What the posting of a payment order did: the ledger's answer and the commission it carried.</summary>
public sealed record DocumentPosted(PostingResult Result, decimal Commission, string TransactionId);

/// <summary>
/// A payment order's posting: the payer debited for the amount and the commission per tariffs, the
/// beneficiary (at this bank) or the interbank settlement account credited, the commission to income — one
/// balanced ledger transaction whose id is the document's, so a repeated step posts once (W2).
/// </summary>
public sealed class DocumentPosting(TariffStore tariffs, Ledger ledger, IOptions<BankOptions> options)
{
    public static string TransactionId(string documentId) => "doc:" + documentId;

    public async Task<DocumentPosted> PostAsync(Document document, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var summary = document.Summary!;
        var currency = Enum.Parse<Currency>(summary.Currency);
        var schedule = await tariffs.GetAsync(cancellationToken);
        var commission = Commissions.Compute(Commissions.Find(schedule.Tariffs, PaymentOrder.Type, currency, summary.Route), summary.Amount, currency);
        var payer = LedgerAccountId.ForIban(Iban.Parse(summary.PayerIban));
        var beneficiary = summary.Route == PaymentRoutes.Internal
            ? LedgerAccountId.ForIban(Iban.Parse(summary.BeneficiaryIban))
            : LedgerAccountId.ForBank(BankAccount.InterbankSettlement, currency);
        var bank = options.Value;
        var legs = new List<LedgerLeg>
        {
            new(payer, -summary.Amount, currency)
            {
                Counterparty = new Counterparty(summary.BeneficiaryName, summary.BeneficiaryIban, summary.BeneficiaryIdn, summary.BeneficiaryBic),
                Purpose = summary.Purpose,
                DocumentId = document.DocumentId,
            },
            new(beneficiary, summary.Amount, currency)
            {
                Counterparty = new Counterparty(summary.PayerName, summary.PayerIban, summary.PayerIdn, bank.Bic),
                Purpose = summary.Purpose,
                DocumentId = document.DocumentId,
            },
        };
        if (commission > 0)
        {
            legs.Add(new LedgerLeg(payer, -commission, currency)
            {
                Counterparty = new Counterparty(bank.Name, null, null, bank.Bic),
                Purpose = "Комиссия за платёжное поручение № " + summary.Number,
                DocumentId = document.DocumentId,
            });
            legs.Add(new LedgerLeg(LedgerAccountId.ForBank(BankAccount.CommissionIncome, currency), commission, currency) { DocumentId = document.DocumentId });
        }

        var transaction = new LedgerTransaction(TransactionId(document.DocumentId), "payment", legs)
        {
            Reference = "№ " + summary.Number,
            ValueDate = KazakhstanTime.LocalDate(now),
        };
        var result = await ledger.PostAsync(transaction, cancellationToken);
        return new DocumentPosted(result, commission, transaction.Id);
    }
}
