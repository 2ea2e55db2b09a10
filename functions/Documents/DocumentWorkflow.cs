using System.Text.Json;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Workflows;
using BusinessApi.Notifications;
using Azure.Data.Tables;
using System.Globalization;
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
/// the notice's id is derived from the document. Each step uses a few collaborators: <see cref="DocumentVerification"/>,
/// <see cref="DocumentPosting"/> and <see cref="DocumentCompletion"/>.
/// </summary>
public sealed class DocumentWorkflow : WorkflowDefinition<Document>
{
    public const string WorkflowName = "payment-document";
    public const string AmlEvent = "aml-decision";

    private readonly DocumentVerification _verification;
    private readonly DocumentPosting _posting;
    private readonly DocumentCompletion _completion;
    private readonly DocumentStore _store;
    private readonly CalendarProvider _calendars;
    private readonly CustomerStore _customers;
    private readonly Ledger _ledger;
    private readonly AuditJournal _audit;
    private readonly IOptions<PaymentOptions> _payments;
    private readonly IOptions<BankOptions> _bank;
    private readonly CertificateBlocks _blocks;
    private readonly SpecimenCardStore _cards;
    private readonly PaymentOrderValidation _validation;
    private readonly NoticeChannel _notices;
    private readonly IOptions<DocumentOptions> _documents;
    private readonly Accounts.Settlement.ISettlementGateway _settlement;

    public DocumentWorkflow(
        DocumentVerification verification, DocumentPosting posting, DocumentCompletion completion, DocumentStore store,
        CalendarProvider calendars, CustomerStore customers, Ledger ledger, AuditJournal audit, IOptions<PaymentOptions> payments, IOptions<BankOptions> bank,
        CertificateBlocks blocks, SpecimenCardStore cards, PaymentOrderValidation validation, NoticeChannel notices, IOptions<DocumentOptions> documents,
        Accounts.Settlement.ISettlementGateway settlement)
        : base(WorkflowName)
    {
        _settlement = settlement;
        (_verification, _posting, _completion, _store) = (verification, posting, completion, store);
        (_calendars, _customers, _ledger, _audit, _payments, _bank, _blocks) = (calendars, customers, ledger, audit, payments, bank, blocks);
        (_cards, _validation, _notices, _documents) = (cards, validation, notices, documents);
        string[] signing = ["collect", "window-expired", "execute", "aml-decided", "aml-expired", "executed", "refused", "cancelled"];
        Step("verify", next: signing, VerifyAsync);
        Step("collect", next: signing, CollectAsync);
        Step("window-expired", next: signing, CollectAsync);
        Step("execute", next: ["aml-decided", "aml-expired", "executed", "refused"], ExecuteAfterWaitAsync);
        Step("aml-decided", next: ["executed", "refused"], AmlDecidedAsync);
        Step("aml-expired", next: ["executed", "refused"], (context, cancellationToken) =>
            _completion.FinishAsync(context, DocumentStatus.Refused, RefusalReasons.Aml, failure: "aml_review_expired", cancellationToken: cancellationToken));
        Terminal("executed", "refused", "cancelled");
    }

    private async Task<Transition> VerifyAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        var document = context.Data;
        if (document.Status == DocumentStatus.AwaitingSignatures)
        {
            // A draft: formed and checked at intake, signed by no one yet.
            return await AwaitSignaturesAsync(context, (await _store.GetSheetAsync(document.DocumentId, cancellationToken))?.Sheet.Missing ?? [], cancellationToken);
        }

        // Intake's bytes, when this step runs right after it in the same process: the receipt is then an instant of this
        // process's clock, and reads made since it serve the checks as of the receipt; elsewhere they start from now.
        var taken = context.StartInput as byte[];
        var cms = taken
            ?? await _store.GetCmsAsync(document.DocumentId, cancellationToken)
            ?? throw new InvalidOperationException($"Document {document.DocumentId} has no signed bytes.");
        var freshAfter = taken is null ? context.Now : document.ReceivedAt;

        // The customer's index of carded accounts (as of the receipt) is read while the signature is checked, not after.
        var carded = _verification.CardedAccountsAsync(document.CustomerId, freshAfter, cancellationToken);
        var verdict = await _verification.VerifyAsync(document, cms, freshAfter, cancellationToken);
        var cardedAccounts = await carded;
        context.Data = document = document with { Signer = verdict.Signer };
        if (verdict is Verdict.Refused refused)
        {
            context.Data = document with { Errors = [.. refused.Errors.Select(DocumentError.Of)] };
            return await _completion.FinishAsync(context, DocumentStatus.Refused, refused.ReasonCode, refused.Failure, cancellationToken: cancellationToken);
        }

        var accepted = (Verdict.Accepted)verdict;
        var order = accepted.Order;
        var first = new DocumentSignature(1, document.UserId, null, document.ReceivedAt, accepted.Facts, document.CmsSha256);
        // The index tells whether the account may have a card (an index past its size says "any may"); only then are its
        // card and the signer's own row read (for its ETag).
        if ((cardedAccounts is null || cardedAccounts.Contains(order.DebitIban))
            && await _cards.GetAsync(document.CustomerId, order.DebitIban, [document.UserId], cancellationToken) is { } card)
        {
            // The account's specimen card: the signer must be on it, and the rule may want more signatures.
            if (card.Card.ActiveSigner(document.UserId, document.ReceivedAt) is not { } entry || !card.SignerETags.ContainsKey(document.UserId))
            {
                return await _completion.FinishAsync(context, DocumentStatus.Refused, RefusalReasons.AuthenticationFailed, DocumentFailures.NotOnSpecimenCard,
                    cancellationToken: cancellationToken);
            }

            first = first with { Group = entry.Group };
            var missing = SignatureSheet.MissingUnder(card.Card, [first]);
            if (missing.Count > 0)
            {
                var sheet = new SignatureSheet(document.DocumentId, order.DebitIban, SheetStages.Collecting,
                    document.ReceivedAt.AddDays(_documents.Value.SignatureWindowDays), [first]) { Missing = missing };
                context.Write(new(TableTransactionActionType.Add, SignatureRows.SheetEntity(document.CustomerId, sheet)));
                context.Write(new(TableTransactionActionType.Add, SignatureRows.SignatureEntity(document.CustomerId, document.DocumentId, 1, cms)));
                context.Write(new(TableTransactionActionType.UpsertMerge,
                    new TableEntity(document.CustomerId, DocumentStore.SignedBytesPrefix + document.DocumentId) { ["Content"] = accepted.Content }));
                context.Write(SpecimenCardStore.Unchanged(document.CustomerId, order.DebitIban, document.UserId, card.SignerETags[document.UserId], context.Now));
                context.Data = document with
                {
                    Type = order.Type,
                    Status = DocumentStatus.AwaitingSignatures,
                    StatusHistory = [.. document.StatusHistory, new DocumentStatusChange(DocumentStatus.AwaitingSignatures, context.Now)],
                    Summary = DocumentSummary.Of(order, _bank.Value.IbanCode, _bank.Value.Bic),
                    Signatures = [first],
                    SignatureWindowEndsAt = sheet.WindowEndsAt,
                };
                return await AwaitSignaturesAsync(context, missing, cancellationToken);
            }

            document = document with { Signatures = [first] };
        }

        // Signed at once by one person without a card: the signer is the one signature (kept once, in Signer).
        context.Data = document with { SignedAt = document.ReceivedAt };
        return await AcceptAsync(context, order, new ArchiveMaterial(cms, []), cancellationToken);
    }

    /// <summary>
    /// Accepted: the signed original is kept in the document's rows already (durable since intake, or since the
    /// last signature) and goes to the archive in the document's one package when it ends; the document records its
    /// SHA-256 now. Then executed now, or at the next opening of the operational day.
    /// </summary>
    private async Task<Transition> AcceptAsync(StepContext<Document> context, ISignedOrder order, ArchiveMaterial material, CancellationToken cancellationToken)
    {
        var document = context.Data;
        context.Items[ArchiveMaterial.Key] = material;
        var archived = DocumentArchive.Sha256(material.Original);
        var calendar = await _calendars.GetAsync(cancellationToken);
        var open = calendar.IsOpen(context.Now);
        context.Data = document = document with
        {
            Type = order.Type,
            Status = DocumentStatus.Processing,
            StatusHistory = [.. document.StatusHistory, new DocumentStatusChange(DocumentStatus.Processing, context.Now)],
            Summary = DocumentSummary.Of(order, _bank.Value.IbanCode, _bank.Value.Bic),
            ArchiveSha256 = archived,
            WaitingFor = open ? null : DocumentWaits.OperationalDay,
        };
        if (open)
        {
            return await ExecuteAsync(context, cancellationToken); // one write of the document per step: the step it ends in writes it
        }

        context.Data = document = await _completion.WaitingAsync(document, cancellationToken);
        context.Write(DocumentStore.Update(document));
        return context.WaitUntil(calendar.NextOpening(context.Now), "execute");
    }

    /// <summary>
    /// Awaiting signatures: the document says so, the signers are told, and the workflow sleeps until a signature,
    /// a cancel or a change of the card arrives (<see cref="SignatureCollector"/>), or the signature window ends.
    /// </summary>
    private async Task<Transition> AwaitSignaturesAsync(StepContext<Document> context, IReadOnlyList<string> missing, CancellationToken cancellationToken)
    {
        var document = context.Data;
        var summary = document.Summary;
        var until = document.SignatureWindowEndsAt ?? throw new InvalidOperationException($"Document {document.DocumentId} awaits signatures without a window.");
        await _notices.AddAsync(new NoticeRequest(document.CustomerId, NoticeKinds.DocumentAwaitingSignature,
            $"{document.DocumentId}:awaiting:{document.Signatures.Count(s => s.Counts)}:{string.Join('+', missing)}", context.Now, document.DocumentId,
            [summary?.Number ?? "—", summary?.Amount.ToString("F2", CultureInfo.InvariantCulture) ?? "—", summary?.Currency ?? "", document.DocumentId,
                string.Join('+', missing), until.ToString("O", CultureInfo.InvariantCulture)]), cancellationToken);
        context.Write(DocumentStore.Update(document));
        return context.WaitForEvent(SignatureCollector.Event, until, "collect", "window-expired");
    }

    /// <summary>
    /// A change to the signature sheet (a signature, a cancel, the card re-judged), or the window's end: the sheet
    /// decides. The window's end is itself an ETag-checked change of the sheet, so it and a last signature cannot both win.
    /// </summary>
    private async Task<Transition> CollectAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        var id = context.Data.DocumentId;
        var (sheet, etag) = await _store.GetSheetAsync(id, cancellationToken)
            ?? throw new InvalidOperationException($"Document {id} awaits signatures without a signature sheet.");
        if (sheet.Stage == SheetStages.Collecting && context.Now >= sheet.WindowEndsAt)
        {
            var expired = sheet with { Stage = SheetStages.Expired, ClosedAt = context.Now, ClosedBy = "system" };
            if (!await _store.Table.UpdateIfMatchAsync(SignatureRows.SheetEntity(context.Data.CustomerId, expired), etag, cancellationToken))
            {
                throw new InvalidOperationException($"Document {id}: the signature sheet changed as the window closed; judged again.");
            }

            sheet = expired;
        }

        context.Data = context.Data with { Signatures = sheet.Signatures };
        return sheet.Stage switch
        {
            SheetStages.Complete => await SignedAsync(context, sheet, cancellationToken),
            SheetStages.Cancelled => await _completion.FinishAsync(context, DocumentStatus.Cancelled, RefusalReasons.CancelledByCustomer, note: sheet.ClosedBy,
                cancellationToken: cancellationToken),
            SheetStages.Expired => await _completion.FinishAsync(context, DocumentStatus.Cancelled, RefusalReasons.SignatureWindowExpired, cancellationToken: cancellationToken),
            _ => await AwaitSignaturesAsync(context, sheet.Missing, cancellationToken),
        };
    }

    /// <summary>
    /// Signed enough: the rules of form once more (the accounts may have changed meanwhile), no certificate reported
    /// compromised since, the payer's number claimed; then one CMS with every SignerInfo is the original, each
    /// signature as received goes beside it in the archive package, and operational-day timing counts from now.
    /// </summary>
    private async Task<Transition> SignedAsync(StepContext<Document> context, SignatureSheet sheet, CancellationToken cancellationToken)
    {
        var document = context.Data;
        var counted = sheet.Counted.ToList();
        var content = await _store.GetContentAsync(document.DocumentId, cancellationToken)
            ?? throw new InvalidOperationException($"Document {document.DocumentId} has no content.");
        var messages = await _store.GetSignatureCmsAsync(document.DocumentId, cancellationToken);
        var deadlines = ExecutionDeadlines.For(await _calendars.GetAsync(cancellationToken), context.Now);
        context.Data = document = document with
        {
            Signer = counted[0].Signer,
            SignedAt = sheet.ClosedAt ?? context.Now,
            OperationalDate = deadlines.OperationalDate,
            RefusalDeadline = deadlines.RefusalDeadline,
            DeemedExecutedAt = deadlines.DeemedExecutedAt,
        };
        foreach (var signature in counted)
        {
            if ((await _blocks.FindAsync(signature.Signer.Issuer, signature.Signer.SerialNumber, signature.Signer.SignerIin, cancellationToken)).Any(b => b.IsCompromise))
            {
                return await _completion.FinishAsync(context, DocumentStatus.Refused, RefusalReasons.CredentialsCompromised, SignatureFailures.CredentialsCompromised,
                    cancellationToken: cancellationToken);
            }
        }

        var customer = await _customers.GetCachedAsync(document.CustomerId, cancellationToken);
        var (order, errors) = await _validation.ValidateAsync(document, content, customer, cancellationToken);
        if (order is null)
        {
            context.Data = document with { Errors = [.. errors.Select(DocumentError.Of)] };
            return await _completion.FinishAsync(context, DocumentStatus.Refused, RefusalReasons.InvalidDocument, errors[0].Code, cancellationToken: cancellationToken);
        }

        if (await _store.ClaimNumberAsync(document, order.NumberScope, order.IssuedOn, order.Number, cancellationToken) is { } holder)
        {
            context.Data = document with { Errors = [new DocumentError("number", DocumentFailures.DuplicateNumber, [holder])] };
            return await _completion.FinishAsync(context, DocumentStatus.Refused, RefusalReasons.InvalidDocument, DocumentFailures.DuplicateNumber,
                cancellationToken: cancellationToken);
        }

        return await AcceptAsync(context, order, new ArchiveMaterial(CmsMerge.Merge(content, messages), messages), cancellationToken);
    }

    /// <summary>
    /// A document that waited (for the operational day, or an AML decision) is executed only if its signer's
    /// certificate has not been reported compromised meanwhile (R-38: not yet executed, so refused).
    /// </summary>
    private async Task<Transition> ExecuteAfterWaitAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        if (context.Data.Signer is { } signer
            && (await _blocks.FindAsync(signer.Issuer, signer.SerialNumber, signer.SignerIin, cancellationToken)).Any(b => b.IsCompromise))
        {
            context.Data = context.Data with { WaitingFor = null };
            return await _completion.FinishAsync(context, DocumentStatus.Refused, RefusalReasons.CredentialsCompromised, SignatureFailures.CredentialsCompromised,
                cancellationToken: cancellationToken);
        }

        return await ExecuteAsync(context, cancellationToken);
    }

    /// <summary>
    /// In the order of clause 5.2.8: service suspended or terminated, account restricted, anti-money-laundering
    /// hold (an operator releases or refuses), then the posting; insufficient funds refuse.
    /// </summary>
    private async Task<Transition> ExecuteAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        var document = context.Data = context.Data with { WaitingFor = null };
        var summary = document.Summary!;
        var customer = await _customers.GetCachedAsync(document.CustomerId, cancellationToken);
        if (customer?.StatusAt(context.Now) is CustomerStatus.Suspended or CustomerStatus.Terminated)
        {
            var reason = customer.StatusAt(context.Now) == CustomerStatus.Suspended ? RefusalReasons.ServiceSuspended : RefusalReasons.ServiceTerminated;
            return await _completion.FinishAsync(context, DocumentStatus.Refused, reason, cancellationToken: cancellationToken);
        }

        if (!document.AmlReleased && AmlRule.FirstMatch(_payments.Value.AmlRules, summary) is { } rule)
        {
            // Clause 5.2.8's order: a restricted account is refused before an AML hold (the ledger refuses it by itself at posting).
            var payer = (await _ledger.GetAccountViewAsync(LedgerAccountId.ForIban(Iban.Parse(summary.PayerIban)), cancellationToken))?.State;
            if (payer is null || payer.FullArrests > 0 || payer.Suspensions > 0)
            {
                return await _completion.FinishAsync(context, DocumentStatus.Refused, RefusalReasons.AccountRestricted, cancellationToken: cancellationToken);
            }

            context.Data = document = await _completion.WaitingAsync(document with { WaitingFor = DocumentWaits.AmlReview }, cancellationToken);
            await _store.PutAlertAsync(DocumentAlerts.Aml, document, context.Now, rule.Name, cancellationToken);
            await _audit.AppendAsync(new AuditRecord(document.CustomerId, "system", "document.aml_hold", AuditOutcome.Success)
            {
                Target = "documents/" + document.DocumentId,
                CorrelationId = context.InstanceId,
                Details = new Dictionary<string, string> { ["rule"] = rule.Name },
            }, cancellationToken);
            context.Write(DocumentStore.Update(document));
            return context.WaitForEvent(AmlEvent, context.Now.AddDays(_payments.Value.AmlReviewDays), "aml-decided", "aml-expired");
        }

        return await PostAsync(context, cancellationToken);
    }

    private async Task<Transition> AmlDecidedAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        var decision = JsonSerializer.Deserialize<AmlDecision>(context.Event?.Payload ?? "null", PlatformExtensions.JsonOptions)
            ?? throw new InvalidOperationException("An AML decision without its payload.");
        await _store.DeleteAlertAsync(DocumentAlerts.Aml, context.Data.DocumentId, cancellationToken);
        if (!decision.Release)
        {
            return await _completion.FinishAsync(context, DocumentStatus.Refused, RefusalReasons.Aml, note: decision.Comment, cancellationToken: cancellationToken);
        }

        context.Data = context.Data with { AmlReleased = true, WaitingFor = null };
        return await ExecuteAfterWaitAsync(context, cancellationToken);
    }

    private async Task<Transition> PostAsync(StepContext<Document> context, CancellationToken cancellationToken)
    {
        var posted = await _posting.PostAsync(context.Data, context.Now, cancellationToken);
        context.Data = context.Data with { Summary = context.Data.Summary! with { Commission = posted.Commission, Conversion = posted.Conversion ?? context.Data.Summary.Conversion } };
        if (posted.Refusal is { } refusal)
        {
            return await _completion.FinishAsync(context, DocumentStatus.Refused, refusal, cancellationToken: cancellationToken);
        }

        if (posted.Result!.IsPosted)
        {
            var summary = context.Data.Summary!;
            if (summary.Route == PaymentRoutes.Interbank && summary.Currency != nameof(Currency.KZT))
            {
                // A foreign-currency payment leaves through the settlement adapter, once (its id is the document's; the blob is write-once).
                var bank = _bank.Value;
                await _settlement.SendAsync(new Accounts.Settlement.SettlementMessage("pay-" + context.Data.DocumentId[4..], "foreignCurrencyPayment", posted.Result.PostedAt ?? context.Now,
                    summary.BeneficiaryBic, summary.BeneficiaryIban, summary.BeneficiaryName, bank.Bic, summary.PayerIban, context.Data.DocumentId, summary.Number,
                    summary.Date, summary.Amount, summary.Currency, "payment", "")
                {
                    PurposeCode = summary.PurposeCode,
                    Purpose = summary.Purpose,
                    PayerName = summary.PayerName,
                    PayerIdn = summary.PayerIdn,
                    BeneficiaryIdn = summary.BeneficiaryIdn,
                    BeneficiaryCountry = summary.BeneficiaryCountry,
                    Contract = summary.CurrencyControl is { } control
                        ? new Accounts.Settlement.SettlementContract(control.ContractNumber, control.ContractDate, control.RegistrationNumber)
                        : null,
                }, cancellationToken);
            }

            context.Data = context.Data with { TransactionId = posted.TransactionId };
            return await _completion.FinishAsync(context, DocumentStatus.Executed, cancellationToken: cancellationToken);
        }

        var reason = posted.Result.Refusal switch
        {
            LedgerRefusal.InsufficientFunds => RefusalReasons.InsufficientFunds,
            LedgerRefusal.AccountRestricted or LedgerRefusal.AccountClosed => RefusalReasons.AccountRestricted,
            _ => RefusalReasons.InvalidDocument,
        };
        return await _completion.FinishAsync(context, DocumentStatus.Refused, reason, posted.Result.Refusal?.Code(), cancellationToken: cancellationToken);
    }
}

/// <summary>Why a document was refused, beyond its signature (<c>failure</c> beside the reason code).</summary>
public static class DocumentFailures
{
    public const string DuplicateNumber = "duplicate_number";
    public const string NotOnSpecimenCard = "not_on_specimen_card";
}

public static class DocumentAlerts
{
    public const string Aml = "aml";
    public const string Overdue = "overdue";
}

