using System.Text.Json;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Notifications;
using BusinessApi.Platform;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Workflows;
using BusinessApi.Users;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>An operator's decision on a document held for anti-money-laundering review.</summary>
public sealed record AmlDecision(bool Release, string By, string? Comment);

/// <summary>
/// A payment order from receipt to <c>executed</c> or <c>refused</c> (R-30..R-40). The instance lives in
/// the document's partition, so every status change of the document commits with its transition.
/// <list type="number">
/// <item><c>verify</c>: the EDS (CMS signature, chain, validity, key usage, CRL), the signer is the
/// signed-in user with the sign power on the payer account and (for an organisation certificate) of
/// this customer, the Client ID was not reported compromised before receipt, and the rules of form.
/// Accepted: the signed original is archived and the document is <c>processing</c>; outside
/// operational hours it waits (a durable timer) for the next operational day.</item>
/// <item><c>execute</c>: in the order of clause 5.2.8 — service suspended, account restricted,
/// anti-money-laundering hold (an operator releases or refuses), then the posting: payer debited
/// for amount and commission, beneficiary (at this bank) or the interbank settlement account
/// credited, commission to income. Insufficient funds refuse.</item>
/// <item>Every end writes the receipt to the archive and a notice to the customer.</item>
/// </list>
/// Every effect is idempotent (W2): the posting's id is the document's, archive blobs are write-once,
/// the notice's id is derived from the document.
/// </summary>
public sealed partial class DocumentWorkflow : WorkflowDefinition<Document>
{
    public const string WorkflowName = "payment-document";
    public const string AmlEvent = "aml-decision";

    private readonly DocumentServices _services;

    // What never changes about an account once opened: its owner, currency and kind (one read per account per process).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<LedgerAccountId, AccountFacts> _accounts = new();

    private sealed record AccountFacts(string? CustomerId, Currency Currency, LedgerAccountKind Kind);

    public DocumentWorkflow(DocumentServices services)
        : base(WorkflowName)
    {
        _services = services;
        Step("verify", VerifyAsync);
        Step("execute", ExecuteAsync);
        Step("aml-decided", AmlDecidedAsync);
        Step("aml-expired", (context, cancellationToken) =>
            FinishAsync(context, DocumentStatus.Refused, RefusalReasons.Aml, failure: "aml_review_expired", cancellationToken: cancellationToken));
        Terminal("executed", "refused");
    }

    private async Task<Transition> VerifyAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        var s = _services;
        var document = context.Data;
        var cms = await s.Store.GetCmsAsync(document.DocumentId, cancellationToken)
            ?? throw new InvalidOperationException($"Document {document.DocumentId} has no signed bytes.");
        var trust = await s.Trust.GetAsync(cancellationToken);
        var check = SignatureVerifier.Verify(cms, trust, document.ReceivedAt, s.SignatureOptions.Value);
        context.Data = document = document with { Signer = check.Facts };
        if (!check.IsValid)
        {
            return await FinishAsync(context, DocumentStatus.Refused, RefusalReasons.AuthenticationFailed, check.Failure, cancellationToken: cancellationToken);
        }

        // The signer must be the signed-in user, of this customer, still holding the sign power.
        // Users and customers are read as sessions read them (trusted for a few seconds per instance); the pair
        // is read afresh, because a compromise statement registered before receipt must void the document
        // even when it was made through another instance a moment ago.
        var userRead = s.Users.GetCachedAsync(document.UserId, cancellationToken).AsTask();
        var customerRead = s.Customers.GetCachedAsync(document.CustomerId, cancellationToken).AsTask();
        var credentialRead = s.Credentials.GetAsync(document.ClientId, cancellationToken);
        await Task.WhenAll(userRead, customerRead, credentialRead);
        var user = (await userRead)?.User;
        var customer = await customerRead;
        var facts = check.Facts!;
        var identityFailure = SignedInstructions.IdentityFailure(facts, user?.CustomerId == document.CustomerId ? user.Iin : null, customer?.Bin);
        if (identityFailure is not null)
        {
            return await FinishAsync(context, DocumentStatus.Refused, RefusalReasons.AuthenticationFailed, identityFailure, cancellationToken: cancellationToken);
        }

        // a compromise statement registered before receipt voids the documents presented with the pair.
        var credential = (await credentialRead)?.Credential;
        if (credential is { Status: CredentialStatus.BlockedCompromised, StatusChangedAt: { } reportedAt } && reportedAt <= document.ReceivedAt)
        {
            return await FinishAsync(context, DocumentStatus.Refused, RefusalReasons.CredentialsCompromised, SignatureFailures.CredentialsCompromised, cancellationToken: cancellationToken);
        }

        var (order, errors) = await ValidateAsync(document, check.Content!, customer?.Bin, cancellationToken);
        if (order is null)
        {
            context.Data = document with { Errors = [.. errors.Select(DocumentError.Of)] };
            return await FinishAsync(context, DocumentStatus.Refused, RefusalReasons.InvalidDocument, errors[0].Code, cancellationToken: cancellationToken);
        }

        if (user!.Status != UserStatus.Active || !user.Functions.Contains(UserFunctions.Sign) || !user.Powers.MayAccess(order.Payer.Iban!))
        {
            return await FinishAsync(context, DocumentStatus.Refused, RefusalReasons.AuthenticationFailed, SignatureFailures.NoSigningAuthority, cancellationToken: cancellationToken);
        }

        // One payment order per payer account, number and date while it lives: a second one (a re-signed copy
        // included) is refused, never executed twice. Claimed before any effect, so a lost race moves no money.
        if (await s.Store.ClaimNumberAsync(document, order.Payer.Iban!, order.Date, order.Number, cancellationToken) is { } holder)
        {
            context.Data = document with { Errors = [DocumentError.Of(new FieldError("number", DocumentFailures.DuplicateNumber, [holder]))] };
            return await FinishAsync(context, DocumentStatus.Refused, RefusalReasons.InvalidDocument, DocumentFailures.DuplicateNumber, cancellationToken: cancellationToken);
        }

        // Accepted: the signed original goes to the archive before the document says so.
        var (archived, _) = await s.Archive.WriteOnceAsync(DocumentArchive.PathOf(document, DocumentArchive.OriginalName), cms, cancellationToken);
        var calendar = await s.Calendars.GetAsync(cancellationToken);
        var open = calendar.IsOpen(context.Now);
        context.Data = document = document with
        {
            Status = DocumentStatus.Processing,
            StatusHistory = [.. document.StatusHistory, new DocumentStatusChange(DocumentStatus.Processing, context.Now)],
            Summary = DocumentSummary.Of(order, order.BeneficiaryIban.BankCode == s.Bank.Value.IbanCode),
            ArchiveSha256 = archived,
            WaitingFor = open ? null : DocumentWaits.OperationalDay,
        };
        if (open)
        {
            return await ExecuteAsync(context, cancellationToken); // one write of the document per step: the step it ends in writes it
        }

        context.Data = document = await WaitingAsync(document, cancellationToken);
        context.Write(DocumentStore.Update(document));
        return context.WaitUntil(calendar.NextOpening(context.Now), "execute");
    }

    private async Task<(PaymentOrder? Order, IReadOnlyList<FieldError> Errors)> ValidateAsync(Document document, byte[] content, string? ownerBin, CancellationToken cancellationToken)
    {
        var s = _services;
        var calendar = await s.Calendars.GetAsync(cancellationToken);
        var accounts = new Dictionary<string, Currency>(StringComparer.Ordinal);
        if (PayerIbanOf(content) is { } payer && await FactsAsync(LedgerAccountId.ForIban(payer), cancellationToken) is { } account && account.CustomerId == document.CustomerId)
        {
            accounts[payer.Value] = account.Currency; // a closed or restricted account is refused by the ledger at posting
        }

        var context = new PaymentOrderContext(KazakhstanTime.LocalDate(document.ReceivedAt), document.OperationalDate, s.Bank.Value.IbanCode, s.Bank.Value.Bic,
            accounts, s.PurposeCodes, s.PaymentOptions.Value.MaxDocumentAgeDays)
        {
            PayerIdn = ownerBin,
        };
        var (order, errors) = PaymentOrderRules.Validate(content, context);
        if (order is null || order.BeneficiaryIban.BankCode != s.Bank.Value.IbanCode)
        {
            return (order, errors);
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
        if (_accounts.TryGetValue(id, out var known))
        {
            return known;
        }

        if ((await _services.Ledger.GetAccountViewAsync(id, cancellationToken))?.State is not { } state)
        {
            return null; // not remembered: it may be opened later
        }

        var facts = new AccountFacts(state.CustomerId, state.Currency, state.Kind);
        if (_accounts.Count < 100_000)
        {
            _accounts[id] = facts;
        }

        return facts;
    }

    private static Iban? PayerIbanOf(byte[] content)
    {
        try
        {
            using var json = JsonDocument.Parse(content);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("payer", out var payer) && payer.ValueKind == JsonValueKind.Object
                && payer.TryGetProperty("iban", out var iban) && iban.ValueKind == JsonValueKind.String && Iban.TryParse(iban.GetString(), out var parsed)
                ? parsed
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<Transition> ExecuteAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        var s = _services;
        var document = context.Data = context.Data with { WaitingFor = null };
        var summary = document.Summary!;
        var customer = await s.Customers.GetCachedAsync(document.CustomerId, cancellationToken);
        if (customer?.StatusAt(context.Now) is CustomerStatus.Suspended or CustomerStatus.Terminated)
        {
            var reason = customer.StatusAt(context.Now) == CustomerStatus.Suspended ? RefusalReasons.ServiceSuspended : RefusalReasons.ServiceTerminated;
            return await FinishAsync(context, DocumentStatus.Refused, reason, cancellationToken: cancellationToken);
        }

        if (!document.AmlReleased && AmlRule.FirstMatch(s.PaymentOptions.Value.AmlRules, summary) is { } rule)
        {
            // Clause 5.2.8's order: a restricted account is refused before an AML hold (the ledger refuses it by itself at posting).
            var payer = (await s.Ledger.GetAccountViewAsync(LedgerAccountId.ForIban(Iban.Parse(summary.PayerIban)), cancellationToken))?.State;
            if (payer is null || payer.FullArrests > 0 || payer.Suspensions > 0)
            {
                return await FinishAsync(context, DocumentStatus.Refused, RefusalReasons.AccountRestricted, cancellationToken: cancellationToken);
            }

            context.Data = document = await WaitingAsync(document with { WaitingFor = DocumentWaits.AmlReview }, cancellationToken);
            await s.Store.PutAlertAsync(DocumentAlerts.Aml, document, context.Now, rule.Name, cancellationToken);
            await s.Audit.AppendAsync(new AuditRecord(document.CustomerId, "system", "document.aml_hold", AuditOutcome.Success)
            {
                Target = "documents/" + document.DocumentId,
                CorrelationId = context.InstanceId,
                Details = new Dictionary<string, string> { ["rule"] = rule.Name },
            }, cancellationToken);
            context.Write(DocumentStore.Update(document));
            return context.WaitForEvent(AmlEvent, context.Now.AddDays(s.PaymentOptions.Value.AmlReviewDays), "aml-decided", "aml-expired");
        }

        return await PostAsync(context, cancellationToken);
    }

    private async Task<Transition> AmlDecidedAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        var decision = JsonSerializer.Deserialize<AmlDecision>(context.Event?.Payload ?? "null", PlatformExtensions.JsonOptions)
            ?? throw new InvalidOperationException("An AML decision without its payload.");
        await _services.Store.DeleteAlertAsync(DocumentAlerts.Aml, context.Data.DocumentId, cancellationToken);
        if (!decision.Release)
        {
            return await FinishAsync(context, DocumentStatus.Refused, RefusalReasons.Aml, note: decision.Comment, cancellationToken: cancellationToken);
        }

        context.Data = context.Data with { AmlReleased = true, WaitingFor = null };
        return await ExecuteAsync(context, cancellationToken);
    }

    private async Task<Transition> PostAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        var s = _services;
        var document = context.Data;
        var summary = document.Summary!;
        var currency = Enum.Parse<Currency>(summary.Currency);
        var schedule = await s.Tariffs.GetAsync(cancellationToken);
        var commission = Commissions.Compute(Commissions.Find(schedule.Tariffs, PaymentOrder.Type, currency, summary.Route), summary.Amount, currency);
        var payer = LedgerAccountId.ForIban(Iban.Parse(summary.PayerIban));
        var beneficiary = summary.Route == PaymentRoutes.Internal
            ? LedgerAccountId.ForIban(Iban.Parse(summary.BeneficiaryIban))
            : LedgerAccountId.ForBank(BankAccount.InterbankSettlement, currency);
        var bank = s.Bank.Value;
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
            ValueDate = KazakhstanTime.LocalDate(context.Now),
        };
        var result = await s.Ledger.PostAsync(transaction, cancellationToken);
        context.Data = document with { Summary = summary with { Commission = commission } };
        if (result.IsPosted)
        {
            context.Data = context.Data with { TransactionId = transaction.Id };
            return await FinishAsync(context, DocumentStatus.Executed, cancellationToken: cancellationToken);
        }

        var reason = result.Refusal switch
        {
            LedgerRefusal.InsufficientFunds => RefusalReasons.InsufficientFunds,
            LedgerRefusal.AccountRestricted or LedgerRefusal.AccountClosed => RefusalReasons.AccountRestricted,
            _ => RefusalReasons.InvalidDocument,
        };
        return await FinishAsync(context, DocumentStatus.Refused, reason, result.Refusal?.Code(), cancellationToken: cancellationToken);
    }

    public static string TransactionId(string documentId) => "doc:" + documentId;

    /// <summary>
    /// A document about to wait gets its row in the R-33 due index (before the wait commits). Documents that
    /// run straight through need none: a step that keeps failing ends faulted, and the deadline job looks
    /// at faulted documents too.
    /// </summary>
    private async Task<Document> WaitingAsync(Document document, CancellationToken cancellationToken)
    {
        if (!document.Waited)
        {
            await _services.Store.Due.PutAsync(KazakhstanTime.LocalDate(document.DeemedExecutedAt), document.DocumentId, cancellationToken);
        }

        return document with { Waited = true };
    }

    /// <summary>
    /// Ends the document: status and history, the receipt in the archive (the first attempt's receipt wins, so
    /// its time is the decision's), a notice to the customer, the journal entry, and off the work lists.
    /// </summary>
    private async Task<Transition> FinishAsync(
        StepContext<Document> context, DocumentStatus status, string? reasonCode = null, string? failure = null, string? note = null, CancellationToken cancellationToken = default)
    {
        var s = _services;
        var document = context.Data;
        var change = new DocumentStatusChange(status, context.Now) { ReasonCode = reasonCode, Failure = failure, Note = note };
        document = document with { Status = status, WaitingFor = null, StatusHistory = [.. document.StatusHistory, change] };
        var receipt = DocumentReceipt.Of(document);
        var (receiptHash, existing) = await s.Archive.WriteOnceAsync(DocumentArchive.PathOf(document, DocumentArchive.ReceiptName), receipt.ToBytes(), cancellationToken);
        if (existing is not null && DocumentReceipt.Parse(existing) is { } first)
        {
            // An earlier attempt of this step decided and archived first: that decision stands.
            document = document with { StatusHistory = first.StatusHistory, Status = first.Status };
            change = first.StatusHistory[^1];
        }

        context.Data = document = document with { ReceiptSha256 = receiptHash };
        var kind = document.Status == DocumentStatus.Executed ? NoticeKinds.DocumentExecuted : NoticeKinds.DocumentRefused;
        var summary = document.Summary;
        var effects = new List<Task>
        {
            s.Notices.AddAsync(new NoticeRequest(document.CustomerId, kind, document.DocumentId + ":terminal", change.At, document.DocumentId,
                [summary?.Number ?? "—", summary?.Amount.ToString("F2", System.Globalization.CultureInfo.InvariantCulture) ?? "—", summary?.Currency ?? "", document.DocumentId, change.ReasonCode ?? ""])
            {
                // a refusal reaches the customer within the operational day of receipt.
                DeliverBy = document.Status == DocumentStatus.Refused ? document.RefusalDeadline : null,
            }, cancellationToken),
        };
        if (change.ReasonCode is RefusalReasons.AuthenticationFailed or RefusalReasons.CredentialsCompromised)
        {
            // A security event: journaled besides the document's own history (which every end has, written with the change).
            effects.Add(s.Audit.AppendAsync(new AuditRecord(document.CustomerId, "user:" + document.UserId, "document.authentication_failed", AuditOutcome.Denied)
            {
                Target = "documents/" + document.DocumentId,
                CorrelationId = context.InstanceId,
                Details = Details(document, change),
            }, cancellationToken));
        }

        if (document.Waited)
        {
            // Only a document that waited has a due-index row and may be on the operators' lists.
            effects.Add(s.Store.DeleteAlertAsync(DocumentAlerts.Aml, document.DocumentId, cancellationToken));
            effects.Add(s.Store.DeleteAlertAsync(DocumentAlerts.Overdue, document.DocumentId, cancellationToken));
            effects.Add(s.Store.Due.DeleteAsync(KazakhstanTime.LocalDate(document.DeemedExecutedAt), document.DocumentId, cancellationToken));
        }

        await Task.WhenAll(effects);
        context.Write(DocumentStore.Update(document));
        return context.Complete(document.Status == DocumentStatus.Executed ? "executed" : "refused");
    }

    private static Dictionary<string, string> Details(Document document, DocumentStatusChange change)
    {
        var details = new Dictionary<string, string> { ["userId"] = document.UserId, ["clientId"] = document.ClientId };
        if (change.ReasonCode is { } reason)
        {
            details["reasonCode"] = reason;
        }

        if (change.Failure is { } failure)
        {
            details["failure"] = failure;
        }

        if (document.Signer is { } signer)
        {
            details["certificateSerial"] = signer.SerialNumber;
            details["certificateIssuer"] = signer.Issuer;
        }

        if (document.TransactionId is { } transaction)
        {
            details["transactionId"] = transaction;
        }

        return details;
    }
}

/// <summary>Why a document was refused, beyond its signature (<c>failure</c> beside the reason code).</summary>
public static class DocumentFailures
{
    public const string DuplicateNumber = "duplicate_number";
}

public static class DocumentAlerts
{
    public const string Aml = "aml";
    public const string Overdue = "overdue";
}

/// <summary>Everything the document workflow talks to, as one dependency.</summary>
public sealed record DocumentServices(
    DocumentStore Store,
    DocumentArchive Archive,
    TrustStore Trust,
    UserService Users,
    CustomerStore Customers,
    CredentialService Credentials,
    Ledger Ledger,
    CalendarProvider Calendars,
    TariffStore Tariffs,
    NoticeStore Notices,
    AuditJournal Audit,
    PurposeCodes PurposeCodes,
    IOptions<SignatureOptions> SignatureOptions,
    IOptions<PaymentOptions> PaymentOptions,
    IOptions<BankOptions> Bank);

/// <summary>The receipt archived with a document when it ends: its history and what verification found.</summary>
public sealed record DocumentReceipt(
    string DocumentId,
    string CustomerId,
    DocumentStatus Status,
    DateTimeOffset ReceivedAt,
    DateOnly OperationalDate,
    IReadOnlyList<DocumentStatusChange> StatusHistory,
    SignatureFacts? Signer,
    string CmsSha256,
    string? ArchiveSha256,
    DocumentSummary? Summary,
    IReadOnlyList<DocumentError> Errors,
    string? TransactionId)
{
    public static DocumentReceipt Of(Document document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new(document.DocumentId, document.CustomerId, document.Status, document.ReceivedAt, document.OperationalDate, document.StatusHistory,
            document.Signer, document.CmsSha256, document.ArchiveSha256, document.Summary, document.Errors, document.TransactionId);
    }

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, PlatformExtensions.JsonOptions);

    public static DocumentReceipt? Parse(byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize<DocumentReceipt>(bytes, PlatformExtensions.JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
