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
        var cmsHash = DocumentArchive.Sha256(cms);
        if (await store.GetSheetAsync(document.DocumentId, cancellationToken) is not { } read)
        {
            return (null, ProblemResult.For(DocumentProblems.NotAwaitingSignatures));
        }

        if (read.Sheet.Stage != SheetStages.Collecting && !read.Sheet.Counted.Any(c => c.CmsSha256 == cmsHash))
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

        var (after, refused, _) = await DecideAsync(document.CustomerId, document.DocumentId, async (sheet, at) =>
        {
            if (signers!.All(s => sheet.Counted.Any(c => c.UserId == s.User.UserId && c.CmsSha256 == cmsHash)))
            {
                return Decision.Keep; // this very CMS counted already: a retry whose first answer was lost
            }

            if (Closed(sheet, at) is { } closed)
            {
                return Decision.Refuse(closed);
            }

            if (signers!.Any(s => sheet.Counted.Any(c => c.UserId == s.User.UserId)))
            {
                return Decision.Refuse(ProblemResult.For(DocumentProblems.AlreadySigned));
            }

            var card = await cards.GetAsync(document.CustomerId, sheet.PayerIban, [.. signers!.Select(s => s.User.UserId)], cancellationToken);
            var added = new List<DocumentSignature>();
            foreach (var (user, facts) in signers!)
            {
                var entry = card?.Card.ActiveSigner(user.UserId, at);
                if (card is not null && (entry is null || !card.SignerETags.ContainsKey(user.UserId)))
                {
                    return Decision.Refuse(ProblemResult.For(new ApiProblem(DocumentProblems.NotOnSpecimenCard) { DetailArguments = [user.UserId] }));
                }

                added.Add(new DocumentSignature(sheet.Signatures.Count + added.Count + 1, user.UserId, entry?.Group, at, facts, cmsHash));
            }

            var next = await JudgeAsync(sheet with { Signatures = [.. sheet.Signatures, .. added] }, card?.Card, at, cancellationToken);
            List<TableTransactionAction> writes = [new(TableTransactionActionType.Add, SignatureRows.SignatureEntity(document.CustomerId, document.DocumentId, added[0].Number, cms))];
            if (card is not null)
            {
                // Each signer's card row unchanged since read: a power ended meanwhile makes this commit fail, and the next round refuses.
                writes.AddRange(signers!.Select(s => SpecimenCardStore.Unchanged(document.CustomerId, sheet.PayerIban, s.User.UserId, card.SignerETags[s.User.UserId], at)));
            }

            return Decision.Commit(next, writes);
        }, cancellationToken);
        return (after, refused);
    }

    /// <summary>Cancels a document not yet fully signed; the sheet after, or why not.</summary>
    public async Task<(SignatureSheet? Sheet, ProblemResult? Problem)> CancelAsync(Document document, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var (after, refused, _) = await DecideAsync(document.CustomerId, document.DocumentId, (sheet, at) => Task.FromResult(Closed(sheet, at) is { } closed
            ? Decision.Refuse(closed)
            : Decision.Commit(sheet with { Stage = SheetStages.Cancelled, ClosedAt = at, ClosedBy = by }, [])), cancellationToken);
        return (after, refused);
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
            var (_, _, committed) = await DecideAsync(customerId, first.DocumentId, async (sheet, at) =>
            {
                if (sheet.Stage != SheetStages.Collecting)
                {
                    return Decision.Keep;
                }

                var next = await JudgeAsync(sheet, (await cards.GetAsync(customerId, iban, null, cancellationToken))?.Card, at, cancellationToken);
                var same = next.Stage == sheet.Stage && next.Missing.SequenceEqual(sheet.Missing) && next.Signatures.SequenceEqual(sheet.Signatures);
                return same ? Decision.Keep : Decision.Commit(next, []);
            }, cancellationToken);
            changed += committed ? 1 : 0;
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

    /// <summary>What a decision on the sheet as read comes to: keep it as it is, refuse, or commit the next sheet with writes of its own.</summary>
    private sealed record Decision(SignatureSheet? Next, IReadOnlyList<TableTransactionAction> Writes, ProblemResult? Problem)
    {
        public static readonly Decision Keep = new(null, [], null);

        public static Decision Refuse(ProblemResult problem) => new(null, [], problem);

        public static Decision Commit(SignatureSheet next, IReadOnlyList<TableTransactionAction> writes) => new(next, writes, null);
    }

    /// <summary>
    /// Reads the sheet, decides on it, and commits the decision (the sheet ETag-checked, with the decision's own writes)
    /// in one transaction with the event that wakes the document's workflow; while the sheet (or a row the decision
    /// checks) changes underneath, decides again on what is there now. The sheet after, or the problem; and whether it changed.
    /// </summary>
    private async Task<(SignatureSheet? Sheet, ProblemResult? Problem, bool Committed)> DecideAsync(
        string customerId, string documentId, Func<SignatureSheet, DateTimeOffset, Task<Decision>> decide, CancellationToken cancellationToken)
    {
        for (var round = 0; round < MaxRounds; round++)
        {
            if (await store.GetSheetAsync(documentId, cancellationToken) is not { } current)
            {
                return (null, ProblemResult.For(DocumentProblems.NotAwaitingSignatures), false);
            }

            var decision = await decide(current.Sheet, time.GetUtcNow());
            if (decision.Next is not { } next)
            {
                return decision.Problem is { } problem ? (null, problem, false) : (current.Sheet, null, false);
            }

            List<TableTransactionAction> writes =
                [new(TableTransactionActionType.UpdateReplace, SignatureRows.SheetEntity(customerId, next), current.ETag), .. decision.Writes];
            switch (await engine.RaiseEventAsync(DocumentStore.Location(documentId), Event, Change(), writes, cancellationToken))
            {
                case EventDelivery.Delivered:
                    return (next, null, true);
                case EventDelivery.InstanceFinished:
                    return (null, ProblemResult.For(DocumentProblems.NotAwaitingSignatures), false);
                default:
                    continue; // the sheet or a row the decision checked changed since read
            }
        }

        throw new InvalidOperationException($"Document {documentId}: the signature sheet kept changing; no decision could be committed.");
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
