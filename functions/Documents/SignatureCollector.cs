using Azure.Data.Tables;
using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Workflows;
using BusinessApi.Users;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>
/// Adds signatures to a document awaiting them, cancels it, and re-judges its signatures when the account's card
/// changes. Each decision is made on the sheet as read and commits, ETag-checked, in one transaction with the event
/// that wakes the document's workflow (and with an unchanged-check of each signer's card row), so two signers at
/// once, a cancel racing the last signature, and a power ended while a signature is verified each end one way.
/// </summary>
public sealed class SignatureCollector(
    DocumentStore store, SpecimenCardStore cards, SignatureService signatures, UserService users, CustomerStore customers, CertificateBlocks blocks,
    WorkflowEngine engine, IOptions<SignatureOptions> options, TimeProvider time)
{
    public const string Event = "signatures";
    private const int MaxRounds = 25;

    /// <summary>Verifies every SignerInfo of <paramref name="message"/> over the document's content and counts them; the sheet after, or the problem.</summary>
    public async Task<(SignatureSheet? Sheet, ProblemResult? Problem)> AddAsync(
        Document document, User caller, byte[] cms, SignedMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(message);
        var now = time.GetUtcNow();
        if (await store.GetSheetAsync(document.DocumentId, cancellationToken) is not { } read)
        {
            return (null, ProblemResult.For(DocumentProblems.NotAwaitingSignatures));
        }

        if (read.Sheet.Stage != SheetStages.Collecting && !read.Sheet.Counted.Any(c => c.CmsSha256 == DocumentArchive.Sha256(cms)))
        {
            return (null, Closed(read.Sheet, now));
        }

        var content = await store.GetContentAsync(document.DocumentId, cancellationToken)
            ?? throw new InvalidOperationException($"Document {document.DocumentId} awaits signatures but has no content.");
        if (message.Content is { } attached && !attached.AsSpan().SequenceEqual(content))
        {
            return (null, SignedEnvelope.Invalid("cms", "content_mismatch"));
        }

        if (message.Signers.Count == 0)
        {
            return (null, Rejected(SignatureFailures.NoSigner));
        }

        var (signers, problem) = await IdentifyAsync(document, read.Sheet.PayerIban, caller, message, content, now, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        var cmsHash = DocumentArchive.Sha256(cms);
        for (var round = 0; round < MaxRounds; round++)
        {
            if (await store.GetSheetAsync(document.DocumentId, cancellationToken) is not { } current)
            {
                return (null, ProblemResult.For(DocumentProblems.NotAwaitingSignatures));
            }

            var (sheet, etag) = current;
            if (signers!.All(s => sheet.Counted.Any(c => c.UserId == s.User.UserId && c.CmsSha256 == cmsHash)))
            {
                return (sheet, null); // this very CMS counted already: a retry whose first answer was lost
            }

            if (Closed(sheet, now) is { } closed)
            {
                return (null, closed);
            }

            if (signers!.Any(s => sheet.Counted.Any(c => c.UserId == s.User.UserId)))
            {
                return (null, ProblemResult.For(DocumentProblems.AlreadySigned));
            }

            var card = await cards.GetAsync(document.CustomerId, sheet.PayerIban, [.. signers!.Select(s => s.User.UserId)], cancellationToken);
            var added = new List<DocumentSignature>();
            foreach (var (user, facts) in signers!)
            {
                var entry = card?.Card.ActiveSigner(user.UserId, now);
                if (card is not null && entry is null)
                {
                    return (null, ProblemResult.For(new ApiProblem(DocumentProblems.NotOnSpecimenCard) { DetailArguments = [user.UserId] }));
                }

                added.Add(new DocumentSignature(sheet.Signatures.Count + added.Count + 1, user.UserId, entry?.Group, now, facts, cmsHash));
            }

            var next = await JudgeAsync(sheet with { Signatures = [.. sheet.Signatures, .. added] }, card?.Card, now, cancellationToken);
            var writes = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.UpdateReplace, SignatureRows.SheetEntity(document.CustomerId, next), etag),
                new(TableTransactionActionType.Add, SignatureRows.SignatureEntity(document.CustomerId, document.DocumentId, added[0].Number, cms)),
            };
            if (card is not null)
            {
                writes.AddRange(signers!.Select(s => SpecimenCardStore.Unchanged(document.CustomerId, sheet.PayerIban, s.User.UserId, card.SignerETags[s.User.UserId], now)));
            }

            switch (await engine.RaiseEventAsync(DocumentStore.Location(document.DocumentId), Event, Change(), writes, cancellationToken))
            {
                case EventDelivery.Delivered:
                    return (next, null);
                case EventDelivery.InstanceFinished:
                    return (null, ProblemResult.For(DocumentProblems.NotAwaitingSignatures));
                default:
                    continue; // the sheet or a signer's card row changed since read: decide again on what is there now
            }
        }

        throw new InvalidOperationException($"Document {document.DocumentId}: a signature could not be counted, the sheet kept changing.");
    }

    /// <summary>Cancels a document not yet fully signed; the sheet after, or why not.</summary>
    public async Task<(SignatureSheet? Sheet, ProblemResult? Problem)> CancelAsync(Document document, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        for (var round = 0; round < MaxRounds; round++)
        {
            var now = time.GetUtcNow();
            if (await store.GetSheetAsync(document.DocumentId, cancellationToken) is not { } current)
            {
                return (null, ProblemResult.For(DocumentProblems.NotAwaitingSignatures));
            }

            var (sheet, etag) = current;
            if (Closed(sheet, now) is { } closed)
            {
                return (null, closed);
            }

            var next = sheet with { Stage = SheetStages.Cancelled, ClosedAt = now, ClosedBy = by };
            var writes = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, SignatureRows.SheetEntity(document.CustomerId, next), etag) };
            switch (await engine.RaiseEventAsync(DocumentStore.Location(document.DocumentId), Event, Change(), writes, cancellationToken))
            {
                case EventDelivery.Delivered:
                    return (next, null);
                case EventDelivery.InstanceFinished:
                    return (null, ProblemResult.For(DocumentProblems.NotAwaitingSignatures));
                default:
                    continue;
            }
        }

        throw new InvalidOperationException($"Document {document.DocumentId}: could not be cancelled, the sheet kept changing.");
    }

    /// <summary>
    /// After the account's card changed (a signer's power ended, the rule or the signers replaced): every document of
    /// the account still collecting has its signatures judged again under the card in force; a signature whose signer
    /// no longer holds the power stops counting, and a rule now met completes the document. Returns how many changed.
    /// </summary>
    public async Task<int> ReviewAsync(string customerId, string iban, CancellationToken cancellationToken)
    {
        var changed = 0;
        foreach (var (first, _) in await store.ListCollectingAsync(customerId, iban, cancellationToken))
        {
            for (var round = 0; round < MaxRounds; round++)
            {
                var now = time.GetUtcNow();
                if (await store.GetSheetAsync(first.DocumentId, cancellationToken) is not { Sheet.Stage: SheetStages.Collecting } current)
                {
                    break;
                }

                var card = (await cards.GetAsync(customerId, iban, null, cancellationToken))?.Card;
                var next = await JudgeAsync(current.Sheet, card, now, cancellationToken);
                if (next == current.Sheet || (next.Stage == current.Sheet.Stage && next.Missing.SequenceEqual(current.Sheet.Missing)
                    && next.Signatures.SequenceEqual(current.Sheet.Signatures)))
                {
                    break;
                }

                var writes = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, SignatureRows.SheetEntity(customerId, next), current.ETag) };
                var delivery = await engine.RaiseEventAsync(DocumentStore.Location(first.DocumentId), Event, Change(), writes, cancellationToken);
                if (delivery != EventDelivery.WritesConflicted)
                {
                    changed += delivery == EventDelivery.Delivered ? 1 : 0;
                    break;
                }
            }
        }

        return changed;
    }

    /// <summary>
    /// The sheet judged at <paramref name="now"/>: a signature whose signer is off the card or no longer may sign the
    /// account stops counting; then the rule decides whether it is complete.
    /// </summary>
    private async Task<SignatureSheet> JudgeAsync(SignatureSheet sheet, SpecimenCard? card, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var judged = new List<DocumentSignature>();
        foreach (var signature in sheet.Signatures)
        {
            var user = signature.Counts ? (await users.GetAsync(signature.UserId, cancellationToken))?.User : null;
            var lost = !signature.Counts ? null
                : card is not null && card.ActiveSigner(signature.UserId, now) is null ? "power_ended"
                : user is null || !user.MaySignAt(sheet.PayerIban, now) ? "no_signing_authority"
                : null;
            judged.Add(lost is null ? signature : signature with { VoidedAt = now, VoidReason = lost });
        }

        var missing = SignatureSheet.MissingUnder(card, judged);
        return sheet with
        {
            Signatures = judged,
            Missing = missing,
            Stage = missing.Count == 0 ? SheetStages.Complete : SheetStages.Collecting,
            ClosedAt = missing.Count == 0 ? now : null,
        };
    }

    /// <summary>Who signed what: each SignerInfo verified over the content, its signer a user of this customer who may sign the account now.</summary>
    private async Task<(IReadOnlyList<(User User, SignatureFacts Facts)>? Signers, ProblemResult? Problem)> IdentifyAsync(
        Document document, string payerIban, User caller, SignedMessage message, byte[] content, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var checks = await signatures.InspectAsync(message, content, now, live: true, cancellationToken);
        if (checks.FirstOrDefault(c => !c.IsValid) is { } invalid)
        {
            return (null, Rejected(invalid.Failure!));
        }

        var customer = await customers.GetCachedAsync(document.CustomerId, cancellationToken);
        var colleagues = checks.Count > 1 ? await users.ListAsync(document.CustomerId, cancellationToken) : [caller];
        var signers = new List<(User, SignatureFacts)>();
        foreach (var facts in checks.Select(c => c.Facts!))
        {
            var user = facts.SignerIin == caller.Iin ? caller : colleagues.FirstOrDefault(u => u.Iin == facts.SignerIin && u.CustomerId == document.CustomerId);
            if ((SignedInstructions.IdentityFailure(facts, user?.Iin, customer, options.Value)
                ?? SignedInstructions.RoleFailure(facts, customer, options.Value)) is { } identity)
            {
                return (null, Rejected(identity));
            }

            var found = await blocks.FindAsync(facts.Issuer, facts.SerialNumber, facts.SignerIin, cancellationToken);
            if (found.Count > 0)
            {
                return (null, Rejected(found.Any(b => b.IsCompromise) ? SignatureFailures.CredentialsCompromised : SignatureFailures.CertificateBlocked));
            }

            if (!user!.MaySignAt(payerIban, now))
            {
                return (null, ProblemResult.For(SignedInstructionReader.NoSigningAuthority));
            }

            signers.Add((user, facts));
        }

        if (!signers.Any(s => s.Item1.UserId == caller.UserId))
        {
            return (null, Rejected(SignatureFailures.SignerMismatch)); // who sends a signature signs it
        }

        if (signers.DistinctBy(s => s.Item1.UserId).Count() != signers.Count)
        {
            return (null, ProblemResult.For(DocumentProblems.AlreadySigned)); // one person signs once, in one CMS too
        }

        return (signers, null);
    }

    private static ProblemResult? Closed(SignatureSheet sheet, DateTimeOffset now) => sheet.Stage switch
    {
        SheetStages.Complete => ProblemResult.For(DocumentProblems.FullySigned),
        SheetStages.Collecting when now >= sheet.WindowEndsAt => ProblemResult.For(DocumentProblems.SignatureWindowClosed),
        SheetStages.Collecting => null,
        _ => ProblemResult.For(DocumentProblems.NotAwaitingSignatures),
    };

    private static ProblemResult Rejected(string failure) =>
        ProblemResult.For(new ApiProblem(SignedInstructionReader.SignatureRejected) { Extensions = new Dictionary<string, object?> { ["failure"] = failure } });

    /// <summary>A distinct payload per change, so a change raised while the workflow runs a step is never taken for one it has seen.</summary>
    private static string Change() => Guid.NewGuid().ToString("N");
}
